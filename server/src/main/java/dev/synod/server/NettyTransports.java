package dev.synod.server;

import dev.synod.server.config.ServerConfig;
import dev.synod.server.grpc.Transport;
import dev.synod.server.replication.PeerChannels;
import dev.synod.server.replication.PeerEndpoint;
import dev.synod.server.tls.TlsSetup;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The real network: Netty for the client port, the peer port and the links to other members,
 * each with the credentials of {@link TlsSetup} (TLS where configured, plaintext otherwise). The
 * process uses these; tests that need real sockets and TLS use them too.
 */
public final class NettyTransports {
  /** The peer links' HTTP/2 flow-control window (see {@link #peerLinks}). */
  static final int PEER_FLOW_CONTROL_WINDOW_BYTES = 16 << 20;

  private NettyTransports() {}

  public static Transport clientPort(ServerConfig c, TlsSetup tls) {
    return () -> NettyServerBuilder.forAddress(new InetSocketAddress(c.host(), c.port()), tls.clientPort())
        // Handlers only validate, enqueue or read under the state's read lock; running them on
        // the transport's threads saves a thread hand-off per message.
        .directExecutor()
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true);
  }

  /** The peer endpoint listens on its member address's port, on every interface of that host. */
  public static PeerEndpoint peerPort(TlsSetup tls) {
    return address -> {
      int colon = address.lastIndexOf(':');
      return NettyServerBuilder.forAddress(new InetSocketAddress(address.substring(0, colon),
          Integer.parseInt(address.substring(colon + 1))), tls.peerPort());
    };
  }

  /**
   * No gRPC retries on peer links: PeerLink reopens a broken stream itself, and a retriable call
   * would keep a copy of every envelope sent on its long-lived stream in a replay buffer. With
   * peer TLS the link checks the member's certificate names the host it dials. What a member
   * receives on its links is mostly a snapshot it copies from its leader: a flow-control window of
   * {@value #PEER_FLOW_CONTROL_WINDOW_BYTES} bytes keeps several of its 1 MiB pieces in flight
   * (with the default 1 MiB, the leader waits for every piece to be taken before it sends the
   * next: about 190 MB/s on loopback instead of 280; see SnapshotTransferBench).
   */
  public static PeerChannels peerLinks(TlsSetup tls) {
    return address -> NettyChannelBuilder.forTarget(address, tls.peerLinks()).disableRetry()
        .maxInboundMessageSize(64 << 20).flowControlWindow(PEER_FLOW_CONTROL_WINDOW_BYTES).build();
  }
}
