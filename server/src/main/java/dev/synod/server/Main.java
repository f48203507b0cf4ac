package dev.synod.server;

import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.CorruptSnapshotException;
import dev.synod.server.tls.TlsSetup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/** The synod-server process: parse settings, recover, serve until stopped. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.print(ConfigParser.usage());
      return;
    }
    ServerConfig config;
    try {
      config = ConfigParser.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("synod: " + e.getMessage());
      System.exit(2);
      return;
    }
    TlsSetup tls;
    try {
      tls = TlsSetup.load(config);
    } catch (IllegalArgumentException e) {
      System.err.println("synod: " + e.getMessage());
      System.exit(2);
      return;
    }
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
      System.exit(2);
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

  /** Explains why the data could not be opened or trusted, then exits with code 3. */
  private static void exitOn(ServerConfig config, IOException e) {
    if (e instanceof CorruptLogException || e instanceof CorruptSnapshotException) {
      System.err.println("synod: refusing to start rather than serve wrong data: " + e.getMessage());
    } else if (e instanceof java.net.BindException || causedByBind(e)) {
      System.err.println("synod: cannot listen (client port " + config.port() + ", or this member's peer"
          + " address): " + e.getMessage() + "; is another server using the port?");
    } else {
      System.err.println("synod: cannot open data directory " + config.dataDir().toAbsolutePath()
          + ": " + e.getMessage());
    }
    System.err.flush();
    System.exit(3);
  }

  private static boolean causedByBind(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException) {
        return true;
      }
    }
    return false;
  }
}
