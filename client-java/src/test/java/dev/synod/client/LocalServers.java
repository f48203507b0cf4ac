package dev.synod.client;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.Eventually;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Real Synod servers in this JVM, on loopback sockets (clients and peers), each with its own data
 * directory. One server is a cluster of one; three form a replicated cluster with short timers.
 */
final class LocalServers implements AutoCloseable {
  final SynodNode[] nodes;
  private final int[] peerPorts;
  private final int[] clientPorts; // 0 until first started: a restart keeps the port, as a real server does
  private final Path dir;
  private final String[] extra;
  private final boolean[] deaf;
  private final boolean[] isolated;

  LocalServers(Path dir, int size, String... extra) throws Exception {
    this.dir = dir;
    this.extra = extra;
    this.nodes = new SynodNode[size + 1];
    this.peerPorts = new int[size + 1];
    this.clientPorts = new int[size + 1];
    this.deaf = new boolean[size + 1];
    this.isolated = new boolean[size + 1];
    for (int i = 1; i <= size; i++) {
      peerPorts[i] = freePort();
    }
    for (int i = 1; i <= size; i++) {
      start(i);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  void start(int id) throws Exception {
    List<String> args = new ArrayList<>(List.of("--data-dir", dir.resolve("s" + id).toString(), "--port", "0",
        "--server-id", Integer.toString(id), "--tick-ms", "10", "--election-ticks-min", "10",
        "--election-ticks-max", "20", "--heartbeat-ticks", "2", "--session-timeout-min-ms", "300",
        "--write-timeout-ms", "3000"));
    if (nodes.length > 2) {
      StringJoiner members = new StringJoiner(",");
      for (int i = 1; i < nodes.length; i++) {
        members.add(i + "=127.0.0.1:" + peerPorts[i]);
      }
      args.addAll(List.of("--members", members.toString()));
      if (!java.nio.file.Files.exists(dir.resolve("s" + id))) {
        args.addAll(List.of("--initial-cluster-state", "new")); // its first start founds the cluster
      }
    } else {
      args.addAll(List.of("--peer-port", Integer.toString(peerPorts[id])));
    }
    args.addAll(List.of(extra));
    ServerConfig config = ConfigParser.parse(args.toArray(String[]::new));
    int port = clientPorts[id];
    nodes[id] = ServerComponent.create(config,
        () -> NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)),
        address -> NettyServerBuilder.forAddress(socket(address)).intercept(dropWhileDeaf(id)),
        address -> NettyChannelBuilder.forAddress(socket(address)).usePlaintext().build(),
        Clock.SYSTEM, (what, cause) -> System.err.println("FATAL " + what + ": " + cause)).node().start();
    clientPorts[id] = nodes[id].port();
  }

  /**
   * While on, server {@code id} receives no message from its peers (what it sends still goes out):
   * it falls behind the log, and writes it forwards are applied without it learning so.
   */
  void deafen(int id, boolean on) {
    synchronized (deaf) {
      deaf[id] = on;
    }
  }

  /**
   * While on, server {@code id} is cut off from every other server in both directions (what it
   * sends is lost, and it receives nothing); its clients still reach it.
   */
  void isolate(int id, boolean on) {
    synchronized (deaf) {
      deaf[id] = on;
      isolated[id] = on;
    }
  }

  private ServerInterceptor dropWhileDeaf(int id) {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
          ServerCallHandler<Q, A> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onMessage(Q message) {
            boolean drop;
            synchronized (deaf) {
              drop = deaf[id] || (message instanceof PeerEnvelope e && e.getFrom() < isolated.length
                  && isolated[e.getFrom()]);
            }
            if (!drop) {
              super.onMessage(message);
            } else {
              call.request(1); // keep the stream flowing; the message is lost
            }
          }
        };
      }
    };
  }

  private static InetSocketAddress socket(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  String connectString() {
    StringJoiner j = new StringJoiner(",");
    for (int i = 1; i < nodes.length; i++) {
      if (nodes[i] != null) {
        j.add("127.0.0.1:" + nodes[i].port());
      }
    }
    return j.toString();
  }

  /** Every server's client address, stopped ones included (a restart keeps the port). */
  String fullConnectString() {
    StringJoiner j = new StringJoiner(",");
    for (int i = 1; i < nodes.length; i++) {
      j.add("127.0.0.1:" + clientPorts[i]);
    }
    return j.toString();
  }

  /** The id of the live server listening on {@code port}. */
  int idOfPort(int port) {
    for (int i = 1; i < nodes.length; i++) {
      if (nodes[i] != null && nodes[i].port() == port) {
        return i;
      }
    }
    throw new AssertionError("no server on port " + port);
  }

  void stop(int id) {
    nodes[id].close();
    nodes[id] = null;
  }

  int awaitLeader() throws InterruptedException {
    return Eventually.eventually(Duration.ofSeconds(15), "a leader elected", () -> {
      for (int i = 1; i < nodes.length; i++) {
        if (nodes[i] != null && nodes[i].driver().isLeader()) {
          return i;
        }
      }
      return -1;
    }, leader -> leader > 0);
  }

  @Override
  public void close() {
    for (int i = 1; i < nodes.length; i++) {
      if (nodes[i] != null) {
        nodes[i].close();
        nodes[i] = null;
      }
    }
  }
}
