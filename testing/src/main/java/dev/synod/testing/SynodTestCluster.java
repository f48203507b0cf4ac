package dev.synod.testing;

import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.pipeline.Clock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * A real Synod cluster (3 members by default) in the test's JVM, on free loopback ports, each
 * member with its own temporary data directory (all deleted at {@link #close}); members can be
 * stopped and restarted: Curator's TestingCluster for Synod. Members are numbered from 1.
 *
 * <pre>{@code
 * try (SynodTestCluster cluster = SynodTestCluster.start(3)) {
 *   int leader = cluster.awaitLeader(Duration.ofSeconds(10));
 *   cluster.stop(leader);   // the others elect a new leader; clients fail over
 *   cluster.restart(leader);
 * }
 * }</pre>
 */
public final class SynodTestCluster implements AutoCloseable {
  private final Path dir;
  private final List<Member> members = new ArrayList<>();

  private SynodTestCluster(int size, Clock clock, String... settings) {
    this.dir = TempDirs.make("synod-test-cluster-");
    int[] ports = FreePorts.take(2 * size);
    StringJoiner memberList = new StringJoiner(",");
    for (int i = 1; i <= size; i++) {
      memberList.add(i + "=127.0.0.1:" + ports[size + i - 1]);
    }
    for (int i = 1; i <= size; i++) {
      Path data = dir.resolve("member-" + i);
      List<String> args = new ArrayList<>(List.of("--server-id", Integer.toString(i),
          "--port", Integer.toString(ports[i - 1]), "--data-dir", data.toString(),
          "--members", memberList.toString(), "--initial-cluster-state", "new",
          // Short timeouts: tests want elections in tens of milliseconds, not seconds.
          "--tick-ms", "10", "--election-ticks-min", "15", "--election-ticks-max", "30",
          "--heartbeat-ticks", "3"));
      args.addAll(List.of(settings));
      members.add(new Member(i, data, args, clock));
    }
  }

  /** Starts a cluster of {@code size} members (3 or 5 for a real quorum; 1 works too). */
  public static SynodTestCluster start(int size, String... settings) {
    return start(size, Clock.SYSTEM, settings);
  }

  /** As {@link #start(int, String...)}, every member reading time from {@code clock}. */
  public static SynodTestCluster start(int size, Clock clock, String... settings) {
    if (size < 1 || size > 9) {
      throw new IllegalArgumentException("a test cluster has 1 to 9 members, not " + size);
    }
    SynodTestCluster c = new SynodTestCluster(size, clock, settings);
    try {
      for (Member m : c.members) {
        m.start();
      }
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  public int size() {
    return members.size();
  }

  /** Every member's client address, for {@code SynodClient.builder().connectString(...)}. */
  public String connectString() {
    StringJoiner out = new StringJoiner(",");
    for (Member m : members) {
      out.add("127.0.0.1:" + m.port());
    }
    return out.toString();
  }

  /** Member {@code id}'s client address. */
  public String connectString(int id) {
    return "127.0.0.1:" + member(id).port();
  }

  /** Stops member {@code id} cleanly (its data stays); the others go on if they are a majority. */
  public void stop(int id) {
    member(id).stop();
  }

  /** Starts member {@code id} again on its data and ports (stopping it first if it runs). */
  public void restart(int id) {
    Member m = member(id);
    m.stop();
    try {
      m.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stops member {@code id} and deletes its data, as a replaced disk; {@link #restart} then starts
   * it as an empty member that the cluster's leader admits and catches up.
   */
  public void wipe(int id) {
    Member m = member(id);
    m.stop();
    TempDirs.delete(m.dataDir);
    try {
      Files.createDirectories(m.dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean isRunning(int id) {
    return member(id).running();
  }

  /** The member that leads now, or 0 if none of the running ones says it does. */
  public int leader() {
    for (Member m : members) {
      if (m.running()) {
        StatusResponse s = status(m);
        if (s != null && s.getLeaderId() == m.id && s.getRole().equals("leader")) {
          return m.id;
        }
      }
    }
    return 0;
  }

  /** Waits until a member leads; returns its id. */
  public int awaitLeader(Duration timeout) {
    int[] found = new int[1];
    Eventually.eventually(timeout, "a member of the test cluster leads", () -> (found[0] = leader()) != 0);
    return found[0];
  }

  /** Errors that stopped member {@code id} on its own (a storage failure). */
  public List<String> fatalErrors(int id) {
    return List.copyOf(member(id).fatalErrors);
  }

  private StatusResponse status(Member m) {
    ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
    try {
      return SynodGrpc.newBlockingStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance());
    } catch (RuntimeException e) {
      return null;
    } finally {
      ch.shutdownNow();
    }
  }

  private Member member(int id) {
    if (id < 1 || id > members.size()) {
      throw new IllegalArgumentException("no member " + id + " (members are 1.." + members.size() + ")");
    }
    return members.get(id - 1);
  }

  @Override
  public void close() {
    for (Member m : members) {
      m.stop();
    }
    TempDirs.delete(dir);
  }
}
