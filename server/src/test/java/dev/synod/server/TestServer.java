package dev.synod.server;

import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.grpc.Transport;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A whole Synod node over in-process gRPC, with real storage in a temp directory. Settings can be
 * overridden as flags ("session-timeout-min-ms", "200"). Closing it closes channels and the node.
 */
public final class TestServer implements AutoCloseable {
  private static final java.util.concurrent.atomic.AtomicInteger NAMES = new java.util.concurrent.atomic.AtomicInteger();

  public final Path dataDir;
  public final SynodNode node;
  public final List<String> fatalErrors = new CopyOnWriteArrayList<>();
  private final String name = "synod-test-" + NAMES.incrementAndGet();
  private final List<ManagedChannel> channels = new ArrayList<>();

  private final boolean loopback;

  /** A node on in-process transport. */
  public TestServer(Path dataDir, String... settings) throws Exception {
    this(false, Clock.SYSTEM, dataDir, settings);
  }

  /** A node on a real loopback socket (Netty), for what only a real transport does. */
  public static TestServer overLoopback(Path dataDir, String... settings) throws Exception {
    return new TestServer(true, Clock.SYSTEM, dataDir, settings);
  }

  /** A node on in-process transport that reads time from {@code clock} (e.g. a jumping wall). */
  public static TestServer withClock(Clock clock, Path dataDir, String... settings) throws Exception {
    return new TestServer(false, clock, dataDir, settings);
  }

  private TestServer(boolean loopback, Clock clock, Path dataDir, String... settings) throws Exception {
    this.loopback = loopback;
    this.dataDir = dataDir;
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i + 1 < settings.length; i += 2) {
      values.put(settings[i], settings[i + 1]);
    }
    List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(), "--port", "0"));
    values.forEach((k, v) -> {
      args.add("--" + k);
      args.add(v);
    });
    ServerConfig config = ConfigParser.parse(args.toArray(String[]::new));
    Transport transport = loopback
        ? () -> NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        : () -> InProcessServerBuilder.forName(name);
    this.node = ServerComponent.create(config, transport,
        address -> InProcessServerBuilder.forName(address),
        address -> InProcessChannelBuilder.forName(address).build(),
        clock, (what, cause) -> fatalErrors.add(what + ": " + cause)).node().start();
  }

  public ManagedChannel channel() {
    ManagedChannel channel = loopback
        ? NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build()
        : InProcessChannelBuilder.forName(name).build();
    channels.add(channel);
    return channel;
  }

  public SynodGrpc.SynodBlockingStub blocking() {
    return SynodGrpc.newBlockingStub(channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  public SynodGrpc.SynodStub async() {
    return SynodGrpc.newStub(channel());
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
      c.awaitTermination(2, TimeUnit.SECONDS);
    }
    node.close();
  }
}
