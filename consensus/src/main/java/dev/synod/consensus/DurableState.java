package dev.synod.consensus;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the driver recovered from disk for a new {@link Replica}.
 *
 * @param promised the highest ballot this replica promised (persisted from {@code Ready.promised})
 * @param accepted the accepted entries at slots above {@code snapshotSlot}, latest per slot
 * @param commitIndex the durable commit marker: every slot up to it is decided, and its decided
 *     value is its entry in {@code accepted} (or it is at most {@code snapshotSlot})
 * @param snapshotSlot the slot the driver's last snapshot covers (0: none)
 * @param fresh this replica has never persisted a non-null {@code Ready.promised}: an empty or
 *     wiped data directory, or one that only holds entries learned while catching up. A fresh
 *     replica does not vote until it has caught up (or, in a brand-new cluster, bootstrapped)
 */
public record DurableState(
    Ballot promised,
    SortedMap<Long, Entry> accepted,
    long commitIndex,
    long snapshotSlot,
    boolean fresh) {
  public DurableState {
    if (promised == null) {
      throw new IllegalArgumentException("promised must not be null (use Ballot.ZERO)");
    }
    if (accepted == null) {
      throw new IllegalArgumentException("accepted must not be null");
    }
    if (snapshotSlot < 0) {
      throw new IllegalArgumentException("snapshotSlot must be >= 0, got " + snapshotSlot);
    }
    if (commitIndex < snapshotSlot) {
      throw new IllegalArgumentException("commitIndex " + commitIndex + " must be >= snapshotSlot " + snapshotSlot);
    }
    TreeMap<Long, Entry> copy = new TreeMap<>();
    for (Map.Entry<Long, Entry> e : accepted.entrySet()) {
      if (e.getValue() == null || e.getKey() == null || e.getKey() != e.getValue().slot()) {
        throw new IllegalArgumentException("accepted must map each slot to its entry, got " + e);
      }
      if (e.getKey() <= snapshotSlot) {
        continue; // covered by the snapshot
      }
      copy.put(e.getKey(), e.getValue());
    }
    for (long slot = snapshotSlot + 1; slot <= commitIndex; slot++) {
      if (!copy.containsKey(slot)) {
        throw new IllegalArgumentException("commitIndex " + commitIndex + " says slot " + slot
            + " is decided, but accepted holds no entry for it");
      }
    }
    accepted = Collections.unmodifiableSortedMap(copy);
  }

  /** A new, empty data directory. */
  public static DurableState empty() {
    return new DurableState(Ballot.ZERO, new TreeMap<>(), 0, 0, true);
  }
}
