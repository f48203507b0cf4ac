package dev.synod.testing;

import dev.synod.server.SynodNode;
import dev.synod.server.NettyTransports;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.tls.TlsSetup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** One server in the test's JVM: its command line, its data directory, and the running node. */
final class Member {
  final int id;
  final Path dataDir;
  private final List<String> args;
  private final Clock clock;
  final List<String> fatalErrors = new CopyOnWriteArrayList<>();
  private SynodNode node;
  private int port;

  Member(int id, Path dataDir, List<String> args, Clock clock) {
    this.id = id;
    this.dataDir = dataDir;
    this.args = List.copyOf(args);
    this.clock = clock;
  }

  synchronized void start() throws IOException {
    if (node != null) {
      return;
    }
    ServerConfig config;
    try {
      config = ConfigParser.parse(args.toArray(String[]::new));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("server " + id + ": " + e.getMessage(), e);
    }
    TlsSetup tls = TlsSetup.load(config);
    node = ServerComponent.create(config, NettyTransports.clientPort(config, tls),
        NettyTransports.peerPort(tls), NettyTransports.peerLinks(tls), clock,
        (what, cause) -> {
          // A server that must stop stops; the JVM (the user's test run) goes on.
          fatalErrors.add(what + ": " + cause);
          new Thread(this::stop, "synod-testing-stop-" + id).start();
        }).node().start();
    port = node.port();
  }

  synchronized void stop() {
    if (node != null) {
      node.close();
      node = null;
    }
  }

  synchronized boolean running() {
    return node != null;
  }

  /** The client port (kept across restarts). */
  synchronized int port() {
    return port;
  }

  synchronized SynodNode node() {
    return node;
  }
}
