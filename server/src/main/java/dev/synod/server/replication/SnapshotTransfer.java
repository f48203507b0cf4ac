package dev.synod.server.replication;

import dev.synod.peer.v1.FetchSnapshotRequest;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotChunk;
import dev.synod.peer.v1.SnapshotNode;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Moves a snapshot from the leader to a follower that is behind the leader's compacted log. */
final class SnapshotTransfer {
  /** Nodes per chunk, and a byte bound, so a chunk stays well under gRPC message limits. */
  static final int CHUNK_NODES_MAX = 1_000;
  static final int CHUNK_BYTES_MAX = 1 << 20;
  /** How long a follower waits for a whole snapshot. */
  static final long FETCH_TIMEOUT_SECONDS = 120;

  /** A fetched snapshot and the cluster id of the server that sent it (0: not known yet). */
  record Received(Snapshot snapshot, long clusterId) {}

  private SnapshotTransfer() {}

  /** Streams {@code s} in chunks (leader side), each naming the sender's cluster. */
  static void send(Snapshot s, long clusterId, StreamObserver<SnapshotChunk> out) {
    Iterator<Map.Entry<String, NodeRecord>> nodes = s.nodes().entrySet().iterator();
    List<SessionRecord> sessions = s.sessions();
    do {
      SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder().setSlot(s.slot()).setZxid(s.zxid())
          .setTimeMs(s.timeMs()).setClusterId(clusterId);
      int bytes = 0;
      while (nodes.hasNext() && chunk.getNodesCount() < CHUNK_NODES_MAX && bytes < CHUNK_BYTES_MAX) {
        var e = nodes.next();
        chunk.addNodes(SnapshotNode.newBuilder().setPath(e.getKey()).setRecord(e.getValue()));
        bytes += e.getKey().length() + e.getValue().getSerializedSize();
      }
      if (!nodes.hasNext()) {
        chunk.addAllSessions(sessions).setLast(true);
      }
      out.onNext(chunk.build());
    } while (nodes.hasNext());
    out.onCompleted();
  }

  /**
   * Fetches the leader's snapshot (follower side); {@code clusterId} is ours (0: not known yet).
   *
   * @throws IllegalStateException if the snapshot is incomplete or of another cluster
   */
  static Received fetch(PeerGrpc.PeerBlockingStub leader, long minSlot, long clusterId) {
    Iterator<SnapshotChunk> chunks = leader.withDeadlineAfter(FETCH_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .fetchSnapshot(FetchSnapshotRequest.newBuilder().setMinSlot(minSlot).setClusterId(clusterId).build());
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    List<SessionRecord> sessions = new ArrayList<>();
    long slot = -1;
    long zxid = -1;
    long timeMs = 0;
    long senderCluster = 0; // any value (ids are random 64-bit numbers): valid once slot >= 0
    boolean last = false;
    while (chunks.hasNext()) {
      SnapshotChunk chunk = chunks.next();
      if (slot >= 0 && (chunk.getSlot() != slot || chunk.getZxid() != zxid
          || chunk.getTimeMs() != timeMs || chunk.getClusterId() != senderCluster)) {
        throw new IllegalStateException("snapshot chunks disagree on slot/zxid/time/cluster_id");
      }
      senderCluster = chunk.getClusterId();
      if (senderCluster != 0 && clusterId != 0 && senderCluster != clusterId) {
        throw new IllegalStateException("the snapshot is of cluster " + ClusterIdentity.text(senderCluster)
            + ", this server belongs to cluster " + ClusterIdentity.text(clusterId));
      }
      slot = chunk.getSlot();
      zxid = chunk.getZxid();
      timeMs = chunk.getTimeMs();
      for (SnapshotNode n : chunk.getNodesList()) {
        nodes.put(n.getPath(), n.getRecord());
      }
      sessions.addAll(chunk.getSessionsList());
      last |= chunk.getLast();
    }
    if (!last || slot < minSlot) {
      throw new IllegalStateException("incomplete snapshot from the leader (slot " + slot + ")");
    }
    return new Received(new Snapshot(zxid, slot, timeMs, nodes, sessions), senderCluster);
  }
}
