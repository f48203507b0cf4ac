package dev.synod.server.replication;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbound links to every other member: those of {@code --members} at start, then those of each
 * membership the cluster decides ({@link #adopt}: links to new members open, links to removed
 * members close). Logs when a link to a peer becomes
 * connected and when it stops being connected (one line each way, not every reconnect attempt).
 */
public final class PeerTransport implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerTransport.class);

  /** Envelopes queued per peer while its stream is not ready; beyond this they are dropped. */
  static final int LINK_QUEUE_MAX = 4_096;

  private final int selfId;
  private final PeerChannels factory;
  private final MemberDirectory members;
  private final Map<Integer, PeerLink> links = new ConcurrentSkipListMap<>();
  private final Map<Integer, ManagedChannel> channels = new ConcurrentSkipListMap<>();
  /** The address each open link dials. */
  private final Map<Integer, String> dialed = new TreeMap<>();
  private volatile boolean closed;
  /** Told of each peer a link is opened to (see {@link #forEachPeer}). */
  private final List<IntConsumer> peerListeners = new ArrayList<>();

  public PeerTransport(ClusterConfig cluster, PeerChannels factory) {
    this.selfId = cluster.selfId();
    this.factory = factory;
    this.members = new MemberDirectory(cluster);
    connect();
  }

  /** Every member's address as this server knows it now. */
  public MemberDirectory members() {
    return members;
  }

  /**
   * A membership was decided (or a snapshot carried one): links follow it exactly. With
   * {@code proposed}, only adds (a leader replicates to the members of a membership it proposed
   * before it is decided).
   */
  public void adopt(dev.synod.consensus.Membership m, boolean proposed) {
    if (proposed ? members.learn(m) : members.adopt(m)) {
      connect();
    }
  }

  /** Calls {@code listener} with every peer linked now, and later with each peer a link opens to. */
  public synchronized void forEachPeer(IntConsumer listener) {
    peerListeners.add(listener);
    for (int id : dialed.keySet()) {
      listener.accept(id);
    }
  }

  /** Opens a link to every member without one (or whose address changed); closes the others. */
  private synchronized void connect() {
    if (closed) {
      return;
    }
    SortedMap<Integer, String> wanted = new TreeMap<>(members.addresses());
    wanted.remove(selfId);
    wanted.values().removeIf(String::isEmpty);
    for (Integer id : new ArrayList<>(dialed.keySet())) {
      if (!dialed.get(id).equals(wanted.get(id))) {
        LOG.atInfo().addKeyValue("server", selfId).addKeyValue("peer", id)
            .log("server {}: closing the link to server {} at {} (no longer a member at that address)",
                selfId, id, dialed.get(id));
        dialed.remove(id);
        channels.remove(id);
        PeerLink link = links.remove(id);
        if (link != null) {
          link.close();
        }
      }
    }
    wanted.forEach((id, address) -> {
      if (!dialed.containsKey(id)) {
        ManagedChannel channel = factory.open(address);
        dialed.put(id, address);
        channels.put(id, channel);
        links.put(id, new PeerLink(channel, LINK_QUEUE_MAX));
        watch(id, address, channel, false);
        peerListeners.forEach(l -> l.accept(id));
      }
    });
  }

  /** Logs the link to {@code peer} going up or down, then waits for its next change. */
  private void watch(int peer, String address, ManagedChannel channel, boolean wasConnected) {
    if (closed) {
      return;
    }
    ConnectivityState now;
    try {
      now = channel.getState(false);
    } catch (UnsupportedOperationException e) {
      return; // a channel that does not report its state: nothing to log
    }
    boolean connected = now == ConnectivityState.READY;
    if (connected && !wasConnected) {
      LOG.atInfo().addKeyValue("server", selfId).addKeyValue("peer", peer)
          .log("server {}: connected to server {} at {}", selfId, peer, address);
    } else if (!connected && wasConnected && now != ConnectivityState.SHUTDOWN) {
      LOG.atWarn().addKeyValue("server", selfId).addKeyValue("peer", peer)
          .log("server {}: lost the connection to server {} at {} ({})", selfId, peer, address, now);
    }
    if (now == ConnectivityState.SHUTDOWN) {
      return;
    }
    channel.notifyWhenStateChanged(now, () -> watch(peer, address, channel, connected));
  }

  /** Whether the link to {@code peer} is connected now (any thread). */
  public boolean reachable(int peer) {
    ManagedChannel channel = channels.get(peer);
    try {
      return channel != null && channel.getState(false) == ConnectivityState.READY;
    } catch (UnsupportedOperationException e) {
      return false;
    }
  }

  /** Envelopes waiting to be sent to {@code peer}. */
  public int queued(int peer) {
    PeerLink link = links.get(peer);
    return link == null ? 0 : link.queued();
  }

  /** Envelopes to {@code peer} dropped so far (its stream broken or its queue full). */
  public long dropped(int peer) {
    PeerLink link = links.get(peer);
    return link == null ? 0 : link.dropped();
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
  public synchronized void close() {
    closed = true;
    links.values().forEach(PeerLink::close);
  }
}
