package dev.synod.server.replication;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import io.grpc.ManagedChannel;
import java.util.Map;
import java.util.TreeMap;

/** Outbound links to every other member, created at start. */
public final class PeerTransport implements AutoCloseable {
  /** Envelopes queued per peer while its stream is not ready; beyond this they are dropped. */
  static final int LINK_QUEUE_MAX = 4_096;

  private final int selfId;
  private final Map<Integer, PeerLink> links = new TreeMap<>();
  private final Map<Integer, ManagedChannel> channels = new TreeMap<>();

  public PeerTransport(ClusterConfig cluster, PeerChannels factory) {
    this.selfId = cluster.selfId();
    cluster.peerAddresses().forEach((id, address) -> {
      if (id != selfId) {
        ManagedChannel channel = factory.open(address);
        channels.put(id, channel);
        links.put(id, new PeerLink(channel, LINK_QUEUE_MAX));
      }
    });
  }

  /** Sends to one peer; never blocks, may drop. */
  public void send(int to, PeerEnvelope envelope) {
    PeerLink link = links.get(to);
    if (link != null) {
      link.send(envelope);
    }
  }

  /** A blocking stub to a peer, for snapshot transfer. */
  public PeerGrpc.PeerBlockingStub blockingStub(int peer) {
    ManagedChannel channel = channels.get(peer);
    if (channel == null) {
      throw new IllegalArgumentException("no peer " + peer);
    }
    return PeerGrpc.newBlockingStub(channel);
  }

  public int selfId() {
    return selfId;
  }

  @Override
  public void close() {
    links.values().forEach(PeerLink::close);
  }
}
