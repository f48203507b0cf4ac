package dev.synod.server.storage;

import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.util.List;
import java.util.SortedMap;

/**
 * A consistent copy of the replicated state as of {@code zxid}, which is the state after applying
 * every consensus slot up to and including {@code slot}: the decided time then ({@code timeMs},
 * the effective time of the Txn at {@code zxid}; apply never goes below it), every node by absolute
 * path (the root "/" included) and every live session. Immutable once built; the state machine
 * makes it under its lock (with slot 0: it does not know slots) and the caller sets the slot with
 * {@link #withSlot}. Snapshot files are named and ordered by slot.
 */
public record Snapshot(
    long zxid, long slot, long timeMs, SortedMap<String, NodeRecord> nodes,
    List<SessionRecord> sessions) {
  /**
   * @throws IllegalArgumentException if {@code zxid} or {@code slot} is negative
   */
  public Snapshot {
    if (zxid < 0 || slot < 0) {
      throw new IllegalArgumentException(
          "snapshot zxid and slot must be >= 0: zxid " + zxid + ", slot " + slot);
    }
  }

  /** A snapshot with decided time 0 (as before any Txn had a time): for tests of the rest. */
  public Snapshot(long zxid, long slot, SortedMap<String, NodeRecord> nodes,
      List<SessionRecord> sessions) {
    this(zxid, slot, 0, nodes, sessions);
  }

  /** This snapshot, covering {@code slot} instead. */
  public Snapshot withSlot(long slot) {
    return new Snapshot(zxid, slot, timeMs, nodes, sessions);
  }
}
