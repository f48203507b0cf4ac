package dev.synod.server;

import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.observe.LogSetup;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.CorruptSnapshotException;
import dev.synod.server.tls.TlsSetup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * The synod-server process: parse settings, recover, serve until stopped. A failure to start is
 * one line on stderr (never a stack trace) and one of the exit codes below.
 */
public final class Main {
  /** A setting is wrong, unknown or does not fit this data directory. */
  public static final int EXIT_BAD_SETTINGS = 2;
  /** The data directory cannot be opened or trusted (a damaged log or snapshot, unreadable files). */
  public static final int EXIT_DATA = 3;
  /** A port cannot be listened on: in use, or an address this machine does not have. */
  public static final int EXIT_CANNOT_LISTEN = 4;

  /** Stopped by the storage failure handler: the log could not be written while running. */
  public static final int EXIT_STORAGE_FAILURE = 74;

  static final String EXIT_CODES_HELP = "\nExit codes: 0 stopped (SIGTERM, Ctrl-C); " + EXIT_BAD_SETTINGS
      + " a bad setting; " + EXIT_DATA + " the data directory cannot be opened or trusted; "
      + EXIT_CANNOT_LISTEN + " a port cannot be listened on (in use); " + EXIT_STORAGE_FAILURE
      + " the log could not be written while serving.\n";

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.print(ConfigParser.usage() + EXIT_CODES_HELP);
      return;
    }
    ServerConfig config;
    ClusterConfig cluster;
    try {
      config = ConfigParser.parse(args);
      // The member list, checked before anything touches the disk.
      cluster = ClusterConfig.parse(config.members(), config.serverId(), config.host(), config.peerPort());
    } catch (IllegalArgumentException e) {
      System.err.println("synod: " + e.getMessage() + " (see --help)");
      System.exit(EXIT_BAD_SETTINGS);
      return;
    } catch (IOException e) {
      System.err.println("synod: cannot read the --config file: " + e);
      System.exit(EXIT_BAD_SETTINGS);
      return;
    }
    try {
      probeListen(config.host(), config.port());
      if (!cluster.isSingleNode()) {
        String self = cluster.peerAddresses().get(config.serverId());
        probeListen(self.substring(0, self.lastIndexOf(':')).replace("[", "").replace("]", ""),
            cluster.selfPeerPort());
      }
      if (config.metricsPort() > 0) {
        probeListen(config.host(), config.metricsPort());
      }
    } catch (IOException e) {
      exitOn(config, e);
      return;
    }
    TlsSetup tls;
    try {
      tls = TlsSetup.load(config);
    } catch (IllegalArgumentException e) {
      System.err.println("synod: " + e.getMessage());
      System.exit(EXIT_BAD_SETTINGS);
      return;
    }
    LogSetup.configure(config.logFormat());
    SynodNode node;
    try {
      node = ServerComponent.create(config, NettyTransports.clientPort(config, tls),
          NettyTransports.peerPort(tls), NettyTransports.peerLinks(tls),
          Clock.SYSTEM, FatalHandler.HALT).node().start();
    } catch (UncheckedIOException e) {
      exitOn(config, e.getCause());
      return;
    } catch (IOException e) {
      exitOn(config, e);
      return;
    } catch (IllegalArgumentException e) {
      // A setting that cannot work with this data directory (an empty one needs
      // --initial-cluster-state with --members), or members that do not parse.
      System.err.println("synod: " + e.getMessage());
      System.exit(EXIT_BAD_SETTINGS);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(node::close, "synod-shutdown"));
    System.out.println("synod: listening on " + config.host() + ":" + node.port()
        + " (server " + config.serverId() + ", cluster " + ClusterIdentity.text(node.driver().clusterId())
        + ", data in " + config.dataDir().toAbsolutePath()
        + ", last zxid " + node.state().lastZxid() + ")"
        + (tls.clientTls() ? ", client TLS" : ", client plaintext")
        + (tls.peerTls() ? ", peer mutual TLS" : ""));
    System.out.flush();
    node.awaitTermination();
  }

  /**
   * Fails, as the server's own listen would, when {@code host:port} cannot be listened on, before
   * recovery touches the data directory: a port in use then costs one line and nothing else. (The
   * server's own bind still reports a port taken in between the same way.)
   */
  private static void probeListen(String host, int port) throws IOException {
    if (port == 0) {
      return;
    }
    InetSocketAddress address = new InetSocketAddress(host, port);
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(address);
    } catch (IOException e) {
      throw new IOException("Failed to bind to address " + address, e);
    } catch (IllegalArgumentException e) { // an unresolved host (UnresolvedAddressException)
      throw new IOException("Failed to bind to address " + host + ":" + port, e);
    }
  }

  /**
   * Explains why the server could not start, then exits: {@link #EXIT_CANNOT_LISTEN} for a port,
   * {@link #EXIT_DATA} for the data directory.
   */
  private static void exitOn(ServerConfig config, IOException e) {
    System.err.println(startFailure(config, e));
    System.err.flush();
    System.exit(causedByBind(e) ? EXIT_CANNOT_LISTEN : EXIT_DATA);
  }

  /** The one line that says why the server could not start. */
  static String startFailure(ServerConfig config, IOException e) {
    if (e instanceof CorruptLogException || e instanceof CorruptSnapshotException) {
      return "synod: refusing to start rather than serve wrong data: " + e.getMessage();
    } else if (causedByBind(e)) {
      Throwable bind = bindFailure(e);
      String why = bind instanceof java.nio.channels.UnresolvedAddressException
          || bind instanceof IllegalArgumentException ? "not an address of this machine" : bind.getMessage();
      return "synod: cannot listen: " + e.getMessage() + ": " + why + " (is another"
          + " server using the port? the client port is --port " + config.port() + "; a member's peer"
          + " port is its entry in --members)";
    }
    return "synod: cannot open data directory " + config.dataDir().toAbsolutePath() + ": " + e.getMessage();
  }

  private static boolean causedByBind(Throwable e) {
    return bindFailure(e) != null;
  }

  /**
   * What made a listen fail (the port is taken, or the host is not an address here), or null. The
   * gRPC transport reports it as an IOException "Failed to bind to address ..." whose cause is a
   * BindException or, with the native transport, its own IOException.
   */
  private static Throwable bindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException || t instanceof java.nio.channels.UnresolvedAddressException) {
        return t;
      }
      if (t instanceof IOException && t.getMessage() != null
          && t.getMessage().startsWith("Failed to bind to address")) {
        return t.getCause() != null ? t.getCause() : t;
      }
    }
    return null;
  }
}
