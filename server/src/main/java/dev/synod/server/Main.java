package dev.synod.server;

import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.observe.LogSetup;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.CorruptSnapshotException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

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
    LogSetup.configure(config.logFormat());
    SynodNode node;
    try {
      node = ServerComponent.create(config,
          () -> NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
              // Handlers only validate, enqueue or read under the state's read lock; running them on
              // the transport's threads saves a thread hand-off per message.
              .directExecutor()
              .permitKeepAliveTime(5, TimeUnit.SECONDS)
              .permitKeepAliveWithoutCalls(true),
          Main::peerServerBuilder,
          // No gRPC retries on peer links: PeerLink reopens a broken stream itself, and a retriable
          // call would keep a copy of every envelope sent on its long-lived stream in a replay buffer.
          address -> NettyChannelBuilder.forTarget(address).usePlaintext().disableRetry()
              .maxInboundMessageSize(64 << 20).build(),
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
        + ", last zxid " + node.state().lastZxid() + ")");
    System.out.flush();
    node.awaitTermination();
  }

  /** The peer endpoint listens on its member address's port, on every interface of that host. */
  private static NettyServerBuilder peerServerBuilder(String address) {
    int colon = address.lastIndexOf(':');
    return NettyServerBuilder.forAddress(new InetSocketAddress(address.substring(0, colon),
        Integer.parseInt(address.substring(colon + 1))));
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
