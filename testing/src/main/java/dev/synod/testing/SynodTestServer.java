package dev.synod.testing;

import dev.synod.server.pipeline.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Synod server (a cluster of one) in the test's JVM, on a free loopback port, with its data
 * in a temporary directory deleted at {@link #close}: Curator's TestingServer for Synod.
 *
 * <pre>{@code
 * try (SynodTestServer server = SynodTestServer.start();
 *      SynodClient client = SynodClient.builder().connectString(server.connectString()).build().start()) {
 *   client.create("/app", "v1".getBytes(UTF_8));
 *   server.restart(); // the client resumes its session
 * }
 * }</pre>
 *
 * Extra settings are the server's own flags ({@code "--session-timeout-min-ms", "200"}); a
 * {@link Clock} of the test's (a manual one) drives session expiry and TTLs.
 */
public final class SynodTestServer implements AutoCloseable {
  private final Path dataDir;
  private final boolean ownsDir;
  private final Member member;

  private SynodTestServer(Path dataDir, boolean ownsDir, Clock clock, String... settings) {
    this.dataDir = dataDir;
    this.ownsDir = ownsDir;
    int port = FreePorts.take(1)[0];
    List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port),
        "--data-dir", dataDir.toString()));
    args.addAll(List.of(settings));
    this.member = new Member(1, dataDir, args, clock);
  }

  /** Starts a server with its data in a fresh temporary directory. */
  public static SynodTestServer start(String... settings) {
    return started(new SynodTestServer(TempDirs.make("synod-test-"), true, Clock.SYSTEM, settings));
  }

  /** Starts a server on {@code dataDir} (kept at close), reading time from {@code clock}. */
  public static SynodTestServer start(Path dataDir, Clock clock, String... settings) {
    return started(new SynodTestServer(dataDir, false, clock, settings));
  }

  private static SynodTestServer started(SynodTestServer s) {
    try {
      s.member.start();
      return s;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /** {@code 127.0.0.1:PORT}, for {@code SynodClient.builder().connectString(...)}. */
  public String connectString() {
    return "127.0.0.1:" + member.port();
  }

  public int port() {
    return member.port();
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Stops the server cleanly; its clients lose their connection until {@link #restart}. */
  public void stop() {
    member.stop();
  }

  /** Starts it again on the same port and data (after {@link #stop}; stops it first if running). */
  public void restart() {
    member.stop();
    try {
      member.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean isRunning() {
    return member.running();
  }

  /** Errors that stopped the server on its own (a storage failure), for the test to assert on. */
  public List<String> fatalErrors() {
    return List.copyOf(member.fatalErrors);
  }

  @Override
  public void close() {
    member.stop();
    if (ownsDir) {
      TempDirs.delete(dataDir);
    }
  }
}
