package dev.synod.tools.cli;

import dev.synod.server.SynodNode;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/** One real Synod server (a cluster of one) in the test JVM, on loopback sockets. */
final class TestServer implements AutoCloseable {
  private final SynodNode node;

  TestServer(Path dir, String... extraFlags) throws Exception {
    java.util.List<String> flags = new java.util.ArrayList<>(java.util.List.of("--data-dir", dir.toString(),
        "--port", "0", "--peer-port", Integer.toString(freePort()), "--tick-ms", "10",
        "--session-timeout-min-ms", "300"));
    flags.addAll(java.util.List.of(extraFlags));
    var config = ConfigParser.parse(flags.toArray(String[]::new));
    node = ServerComponent.create(config,
        () -> NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        address -> NettyServerBuilder.forAddress(socket(address)),
        address -> NettyChannelBuilder.forAddress(socket(address)).usePlaintext().build(),
        Clock.SYSTEM, (what, cause) -> System.err.println("FATAL " + what + ": " + cause)).node().start();
  }

  String address() {
    return "127.0.0.1:" + node.port();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static InetSocketAddress socket(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  @Override
  public void close() {
    node.close();
  }
}
