package dev.synod.server.cluster;

import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/** Three in-process servers forming one cluster (peers over in-process gRPC too). */
final class TestCluster implements AutoCloseable {
  private static final AtomicInteger CLUSTERS = new AtomicInteger();

  final Path dir;
  final String members;
  final TestServer[] servers;
  private final String[] settings;
  private final IntFunction<List<String>> memberSettings;
  /** Clients reach the members over loopback sockets (so calls have an ip identity). */
  private boolean loopback;

  TestCluster(Path dir, int size, String... settings) throws Exception {
    this(dir, size, size, id -> List.of(), settings);
  }

  /** A cluster whose member {@code id} also gets {@code memberSettings.apply(id)} (they win). */
  TestCluster(Path dir, int size, IntFunction<List<String>> memberSettings, String... settings)
      throws Exception {
    this(dir, size, size, memberSettings, settings);
  }

  /**
   * A cluster whose members take clients on real loopback sockets (peers stay in-process), for
   * what needs a client address, such as ip ACLs.
   */
  static TestCluster overLoopback(Path dir, int size, String... settings) throws Exception {
    TestCluster cluster = new TestCluster(dir, size, 0, id -> List.of(), settings);
    cluster.loopback = true;
    for (int i = 1; i <= size; i++) {
      cluster.start(i);
    }
    return cluster;
  }

  /** Starts only servers 1..{@code started}; the others are members that have not started yet. */
  TestCluster(Path dir, int size, int started, String... settings) throws Exception {
    this(dir, size, started, id -> List.of(), settings);
  }

  private TestCluster(Path dir, int size, int started, IntFunction<List<String>> memberSettings,
      String... settings) throws Exception {
    this.dir = dir;
    this.settings = settings;
    this.memberSettings = memberSettings;
    int id = CLUSTERS.incrementAndGet();
    List<String> entries = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      entries.add(i + "=peer-" + id + "-" + i + ":" + i);
    }
    this.members = String.join(",", entries);
    this.servers = new TestServer[size + 1];
    for (int i = 1; i <= started; i++) {
      start(i);
    }
  }

  /**
   * Starts server {@code id}; on its first start (no data directory yet) as a founder of the
   * cluster ({@code --initial-cluster-state new}), as every member of a new cluster starts.
   */
  TestServer start(int id) throws Exception {
    return start(id, Files.exists(dataDir(id)) ? "" : "new");
  }

  /** Starts server {@code id} with this {@code initial-cluster-state} ("": none). */
  TestServer start(int id, String initialClusterState) throws Exception {
    List<String> all = new ArrayList<>(List.of("server-id", Integer.toString(id), "members", members,
        "tick-ms", "10", "election-ticks-min", "10", "election-ticks-max", "20", "heartbeat-ticks", "2",
        "write-timeout-ms", "3000"));
    if (!initialClusterState.isEmpty()) {
      all.addAll(List.of("initial-cluster-state", initialClusterState));
    }
    all.addAll(List.of(settings));
    all.addAll(memberSettings.apply(id));
    servers[id] = loopback ? TestServer.overLoopback(dataDir(id), all.toArray(String[]::new))
        : new TestServer(dataDir(id), all.toArray(String[]::new));
    return servers[id];
  }

  Path dataDir(int id) {
    return dir.resolve("s" + id);
  }

  void stop(int id) throws Exception {
    servers[id].close();
    servers[id] = null;
  }

  /** Waits until some live server reports itself leader; returns its id. */
  int awaitLeader() throws Exception {
    return Eventually.eventually(Duration.ofSeconds(15), "a leader elected", () -> {
      for (int i = 1; i < servers.length; i++) {
        if (servers[i] != null && servers[i].node.driver().isLeader()) {
          return i;
        }
      }
      return -1;
    }, leader -> leader > 0);
  }

  int aFollower(int leader) {
    for (int i = 1; i < servers.length; i++) {
      if (i != leader && servers[i] != null) {
        return i;
      }
    }
    throw new AssertionError("no follower");
  }

  StatusResponse status(int id) {
    return servers[id].blocking().status(StatusRequest.getDefaultInstance());
  }

  @Override
  public void close() throws Exception {
    for (int i = 1; i < servers.length; i++) {
      if (servers[i] != null) {
        servers[i].close();
      }
    }
  }
}
