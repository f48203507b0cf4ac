package dev.synod.server.tls;

import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.NettyTransports;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.di.ServerComponent;
import dev.synod.server.pipeline.Clock;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManager;

/**
 * Real Synod servers on loopback sockets with the process's own transports ({@link NettyTransports}
 * and {@link TlsSetup}, as Main wires them), and channels to them with or without TLS.
 */
public final class TlsNodes {
  private TlsNodes() {}

  /** Starts a server from flags, as the process would (TLS files read, plaintext rules checked). */
  public static SynodNode start(Path dataDir, String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(), "--port", "0"));
    args.addAll(List.of(flags));
    ServerConfig c = ConfigParser.parse(args.toArray(String[]::new));
    TlsSetup tls = TlsSetup.load(c);
    return ServerComponent.create(c, NettyTransports.clientPort(c, tls), NettyTransports.peerPort(tls),
        NettyTransports.peerLinks(tls), Clock.SYSTEM,
        (what, cause) -> System.err.println("FATAL " + what + ": " + cause)).node().start();
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  public static ManagedChannel plaintext(int port) {
    return channel(port, InsecureChannelCredentials.create());
  }

  /** TLS trusting {@code ca}; with a client certificate when {@code client} is not null. */
  public static ManagedChannel tls(int port, Path ca, TestPki.Files2 client) throws IOException {
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(ca.toFile());
    if (client != null) {
      b.keyManager(client.cert().toFile(), client.key().toFile());
    }
    return channel(port, b.build());
  }

  /** TLS with the given trust manager (e.g. one that records what the server presented). */
  public static ManagedChannel tls(int port, TrustManager trust) {
    return channel(port, TlsChannelCredentials.newBuilder().trustManager(trust).build());
  }

  public static ManagedChannel channel(int port, ChannelCredentials credentials) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
  }

  public static StatusResponse status(ManagedChannel channel) {
    return SynodGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .status(StatusRequest.getDefaultInstance());
  }

  /** The failure of a Status call that must fail. */
  public static StatusRuntimeException statusFails(ManagedChannel channel) {
    try {
      status(channel);
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }

  public static void shutdown(ManagedChannel... channels) throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
      c.awaitTermination(2, TimeUnit.SECONDS);
    }
  }
}
