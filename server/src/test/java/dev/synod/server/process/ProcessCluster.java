package dev.synod.server.process;

import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.Eventually;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Three (or more) Synod servers as separate processes on loopback. Every peer link i→j goes
 * through its own {@link LinkProxy}, so tests can partition any server away and heal it. Spare
 * servers (ids after {@code size}) are not members until a test starts one ({@link #startSpare})
 * and adds it to the membership.
 */
final class ProcessCluster implements AutoCloseable {
  final int size;
  /** Founders and spares: ids 1..total. */
  final int total;
  final Path dir;
  final ServerProcess[] servers;
  final int[] clientPorts;
  private final int[] peerPorts;
  private final LinkProxy[][] links;
  private final ManagedChannel[] channels;
  private final String[] flags;

  ProcessCluster(Path dir, int size, String... flags) throws Exception {
    this(dir, size, 0, flags);
  }

  /** {@code size} founding members, and {@code spares} servers that are not started yet. */
  ProcessCluster(Path dir, int size, int spares, String... flags) throws Exception {
    this.size = size;
    this.total = size + spares;
    this.dir = dir;
    this.flags = flags;
    this.servers = new ServerProcess[total + 1];
    this.clientPorts = new int[total + 1];
    this.peerPorts = new int[total + 1];
    this.channels = new ManagedChannel[total + 1];
    this.links = new LinkProxy[total + 1][total + 1];
    // The peer ports stay reserved while the link proxies take ports of their own, so no proxy
    // can be handed a port a server is about to bind.
    List<ServerSocket> reserved = new ArrayList<>();
    try {
      for (int i = 1; i <= total; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        reserved.add(s);
        peerPorts[i] = s.getLocalPort();
      }
      for (int i = 1; i <= total; i++) {
        for (int j = 1; j <= total; j++) {
          if (i != j) {
            links[i][j] = new LinkProxy(peerPorts[j]);
          }
        }
      }
    } finally {
      for (ServerSocket s : reserved) {
        s.close();
      }
    }
    for (int i = 1; i <= size; i++) {
      start(i);
    }
    for (int i = 1; i <= size; i++) {
      servers[i].awaitPort();
    }
  }

  /**
   * Server i's view of the cluster: itself at its real peer port, the others via its links. A
   * spare lists the founders and itself (as an operator starts a member that joins).
   */
  private String membersFor(int i) {
    List<String> entries = new ArrayList<>();
    for (int j = 1; j <= total; j++) {
      if (j > size && j != i) {
        continue;
      }
      int port = i == j ? peerPorts[j] : links[i][j].port();
      entries.add(j + "=127.0.0.1:" + port);
    }
    return String.join(",", entries);
  }

  /**
   * The peer address to add spare i at: its real peer port. The founders, whose --members do not
   * list it, dial it there once the membership holding it is decided (not through a link proxy).
   */
  String peerAddress(int i) {
    return "127.0.0.1:" + peerPorts[i];
  }

  /** Starts spare i with an empty data directory, to join the running cluster. */
  void startSpare(int i) throws Exception {
    start(i, "existing");
  }

  /** Starts server i; on its first start (no data directory yet) as a founder of the new cluster. */
  void start(int i) throws Exception {
    start(i, java.nio.file.Files.exists(dir.resolve("s" + i)) ? "" : "new");
  }

  /** Starts server i with this {@code --initial-cluster-state} ("": none). */
  void start(int i, String initialClusterState) throws Exception {
    List<String> all = new ArrayList<>(List.of("--server-id", Integer.toString(i),
        "--members", membersFor(i), "--tick-ms", "10", "--election-ticks-min", "15",
        "--election-ticks-max", "30", "--heartbeat-ticks", "3", "--write-timeout-ms", "3000"));
    if (!initialClusterState.isEmpty()) {
      all.addAll(List.of("--initial-cluster-state", initialClusterState));
    }
    all.addAll(List.of(flags));
    servers[i] = ServerProcess.start(dir.resolve("s" + i), all.toArray(String[]::new));
    clientPorts[i] = servers[i].awaitPort();
    if (channels[i] != null) {
      channels[i].shutdownNow();
    }
    channels[i] = NettyChannelBuilder.forAddress("127.0.0.1", clientPorts[i]).usePlaintext().build();
  }

  void kill(int i) throws InterruptedException {
    servers[i].kill();
    servers[i] = null;
  }

  /** Freezes server i (SIGSTOP); see {@link ServerProcess#pause}. */
  void pause(int i) throws Exception {
    servers[i].pause();
  }

  /** Lets server i run again (SIGCONT). */
  void resume(int i) throws Exception {
    servers[i].resume();
  }

  boolean alive(int i) {
    return servers[i] != null && servers[i].process.isAlive();
  }

  ManagedChannel channel(int i) {
    return channels[i];
  }

  SynodGrpc.SynodBlockingStub stub(int i) {
    return SynodGrpc.newBlockingStub(channels[i]).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  StatusResponse status(int i) {
    return stub(i).status(StatusRequest.getDefaultInstance());
  }

  /** Cuts every link to and from server i. */
  void isolate(int i) {
    for (int j = 1; j <= total; j++) {
      if (j != i) {
        links[i][j].cut();
        links[j][i].cut();
      }
    }
  }

  void heal() {
    for (int i = 1; i <= total; i++) {
      for (int j = 1; j <= total; j++) {
        if (i != j) {
          links[i][j].heal();
        }
      }
    }
  }

  /** Waits until one of {@code among} reports itself leader. */
  /**
   * The leader among {@code among}: the one live server there that says it leads, once no other
   * does (at a start two candidates may each win a ballot; the one with the lower ballot still
   * says "leader" until it hears of the higher one, and a test that took it for the leader
   * failed).
   */
  int awaitLeader(int... among) throws InterruptedException {
    return Eventually.eventually(Duration.ofSeconds(20), "one leader among servers " + Arrays.toString(among), () -> {
      int leader = -1;
      for (int i : among) {
        if (alive(i)) {
          try {
            if (status(i).getRole().equals("leader")) {
              if (leader > 0) {
                return -1; // two say they lead: not settled yet
              }
              leader = i;
            }
          } catch (RuntimeException notYet) {
            // starting or unreachable
          }
        }
      }
      return leader;
    }, leader -> leader > 0);
  }

  int[] all() {
    int[] ids = new int[size];
    for (int i = 0; i < size; i++) {
      ids[i] = i + 1;
    }
    return ids;
  }

  String logs() {
    StringBuilder out = new StringBuilder();
    for (int i = 1; i <= total; i++) {
      if (servers[i] != null) {
        out.append("--- server ").append(i).append('\n').append(servers[i].log()).append('\n');
      }
    }
    return out.toString();
  }

  @Override
  public void close() throws Exception {
    for (int i = 1; i <= total; i++) {
      if (channels[i] != null) {
        channels[i].shutdownNow();
      }
      if (servers[i] != null) {
        servers[i].close();
      }
    }
    for (LinkProxy[] row : links) {
      for (LinkProxy link : row) {
        if (link != null) {
          link.close();
        }
      }
    }
  }
}
