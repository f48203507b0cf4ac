package dev.synod.server.storage;

import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A consistent copy of the replicated state as of {@code zxid}, which is the state after applying
 * every consensus slot up to and including {@code slot}: the decided time then ({@code timeMs},
 * the effective time of the Txn at {@code zxid}; apply never goes below it), every node by absolute
 * path (the root "/" included) and every live session. Immutable once built; the state machine
 * makes it under its lock (with slot 0: it does not know slots) and the caller sets the slot with
 * {@link #withSlot}. Snapshot files are named and ordered by slot.
 *
 * <p>The nodes are a {@link SnapshotNodes} source, visited in path order without a copy of the
 * whole tree ({@link #forEachNode}); {@link #nodes()} builds a sorted map of them, on first use, for
 * callers that want one (tests, and small snapshots).
 */
public final class Snapshot {
  private final long zxid;
  private final long slot;
  private final long timeMs;
  private final SnapshotNodes nodes;
  private final List<SessionRecord> sessions;
  private SortedMap<String, NodeRecord> nodeMap;

  /**
   * @throws IllegalArgumentException if {@code zxid} or {@code slot} is negative
   */
  public Snapshot(long zxid, long slot, long timeMs, SnapshotNodes nodes,
      List<SessionRecord> sessions) {
    if (zxid < 0 || slot < 0) {
      throw new IllegalArgumentException(
          "snapshot zxid and slot must be >= 0: zxid " + zxid + ", slot " + slot);
    }
    this.zxid = zxid;
    this.slot = slot;
    this.timeMs = timeMs;
    this.nodes = Objects.requireNonNull(nodes, "nodes");
    this.sessions = Objects.requireNonNull(sessions, "sessions");
  }

  public Snapshot(long zxid, long slot, long timeMs, SortedMap<String, NodeRecord> nodes,
      List<SessionRecord> sessions) {
    this(zxid, slot, timeMs, SnapshotNodes.of(nodes), sessions);
  }

  /** A snapshot with decided time 0 (as before any Txn had a time): for tests of the rest. */
  public Snapshot(long zxid, long slot, SortedMap<String, NodeRecord> nodes,
      List<SessionRecord> sessions) {
    this(zxid, slot, 0, nodes, sessions);
  }

  public long zxid() {
    return zxid;
  }

  public long slot() {
    return slot;
  }

  public long timeMs() {
    return timeMs;
  }

  public List<SessionRecord> sessions() {
    return sessions;
  }

  public long nodeCount() {
    return nodes.count();
  }

  /** Visits every node, by ascending path. */
  public void forEachNode(SnapshotNodes.Visitor visitor) {
    nodes.forEach(visitor);
  }

  /** The node source itself, to hand on to another snapshot. */
  public SnapshotNodes nodeSource() {
    return nodes;
  }

  /**
   * Every node by path, unmodifiable; built on the first call (a whole copy: for tests and small
   * snapshots, not for the paths that carry a million nodes).
   */
  public synchronized SortedMap<String, NodeRecord> nodes() {
    if (nodeMap == null) {
      TreeMap<String, NodeRecord> map = new TreeMap<>();
      nodes.forEach(map::put);
      nodeMap = Collections.unmodifiableSortedMap(map);
    }
    return nodeMap;
  }

  /** This snapshot, covering {@code slot} instead. */
  public Snapshot withSlot(long slot) {
    return new Snapshot(zxid, slot, timeMs, nodes, sessions);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot s && zxid == s.zxid && slot == s.slot && timeMs == s.timeMs
        && sessions.equals(s.sessions) && nodes().equals(s.nodes());
  }

  @Override
  public int hashCode() {
    return Objects.hash(zxid, slot, timeMs, sessions, nodes());
  }

  @Override
  public String toString() {
    return "Snapshot[zxid=" + zxid + ", slot=" + slot + ", timeMs=" + timeMs + ", nodes="
        + nodes.count() + ", sessions=" + sessions.size() + "]";
  }
}
