package dev.synod.tools.polyglot;

import dev.synod.server.SynodNode;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * A real single-node Synod server in this JVM, serving clients on a free loopback port, so that
 * programs in other languages can reach it as they would reach a deployed one.
 */
final class InProcessServer implements AutoCloseable {
  private final SynodNode node;

  private InProcessServer(SynodNode node) {
    this.node = node;
  }

  /** Starts a server keeping its data in {@code dataDir}. */
  static InProcessServer start(Path dataDir) throws IOException {
    ServerConfig config = ConfigParser.parse(new String[] {
        "--data-dir", dataDir.toString(), "--port", "0", "--peer-port", Integer.toString(freePort())});
    SynodNode node = ServerComponent.create(config,
        () -> NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        address -> NettyServerBuilder.forAddress(socket(address)),
        address -> NettyChannelBuilder.forTarget(address).usePlaintext().build(),
        Clock.SYSTEM, (what, cause) -> System.err.println("FATAL " + what + ": " + cause))
        .node().start();
    return new InProcessServer(node);
  }

  /** The client address, {@code 127.0.0.1:port}. */
  String target() {
    return "127.0.0.1:" + node.port();
  }

  /** A plaintext channel to this server; the caller shuts it down. */
  ManagedChannel channel() {
    return NettyChannelBuilder.forTarget(target()).usePlaintext().build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static InetSocketAddress socket(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(address.substring(0, colon),
        Integer.parseInt(address.substring(colon + 1)));
  }

  @Override
  public void close() {
    node.close();
  }
}
