package dev.synod.consensus.sim;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Replica;
import java.util.TreeMap;

/**
 * A replica's fake disk: what it holds survives a crash, and nothing else does. A Ready is
 * persisted whole (one fsync) or not at all. Also holds the driver's state-machine snapshot,
 * reduced to the slot it covers and the running hash of the values applied up to it.
 */
final class SimDisk {
  private Ballot promised = Ballot.ZERO;
  private boolean promisedEver;
  /** Created with the cluster (a founding member); a wipe ends it. */
  private boolean founding;
  private final TreeMap<Long, Entry> accepted = new TreeMap<>();
  private long commitIndex;
  private long snapshotSlot;
  private long snapshotHash = Invariants.HASH_START;
  /** The membership the snapshot's state holds (null: none decided, the founding voters). */
  private Membership snapshotMembership;

  SimDisk(boolean founding) {
    this.founding = founding;
  }

  DurableState recover() {
    DurableState.Standing standing = promisedEver ? DurableState.Standing.VOTER
        : founding ? DurableState.Standing.FOUNDING : DurableState.Standing.JOINING;
    return new DurableState(promised, accepted, commitIndex, snapshotSlot, standing);
  }

  /** Persists a Ready, checking that the promise never goes backwards and decided slots never change. */
  void persist(int node, Replica.Ready r, Invariants invariants) {
    if (r.promised() != null) {
      if (r.promised().isBelow(promised)) {
        throw new InvariantViolation("node " + node + " persisted promise " + r.promised()
            + " below its durable promise " + promised);
      }
      promised = r.promised();
      promisedEver = true;
    }
    for (Entry e : r.entries()) {
      if (e.slot() <= snapshotSlot) {
        continue;
      }
      if (e.slot() <= commitIndex) {
        invariants.checkDecided(node, "a durable entry at or below the durable commit index", e);
      }
      accepted.put(e.slot(), e);
    }
    if (r.commitIndex() >= 0) {
      if (r.commitIndex() < commitIndex) {
        throw new InvariantViolation("node " + node + " persisted commit index " + r.commitIndex()
            + " below its durable commit index " + commitIndex);
      }
      commitIndex = r.commitIndex();
    }
  }

  /** The driver snapshotted its state through {@code slot}; the log below is no longer needed. */
  void snapshot(long slot, long hash, Membership membership) {
    snapshotSlot = slot;
    snapshotHash = hash;
    snapshotMembership = membership;
    accepted.headMap(slot, true).clear();
    commitIndex = Math.max(commitIndex, slot);
  }

  /** The data directory is lost: the replica restarts fresh, as a member of an existing cluster. */
  void wipe() {
    promised = Ballot.ZERO;
    promisedEver = false;
    founding = false;
    accepted.clear();
    commitIndex = 0;
    snapshotSlot = 0;
    snapshotHash = Invariants.HASH_START;
    snapshotMembership = null;
  }

  Membership snapshotMembership() {
    return snapshotMembership;
  }

  Ballot promised() {
    return promised;
  }

  boolean fresh() {
    return !promisedEver;
  }

  long commitIndex() {
    return commitIndex;
  }

  long snapshotSlot() {
    return snapshotSlot;
  }

  long snapshotHash() {
    return snapshotHash;
  }

  Entry entry(long slot) {
    return accepted.get(slot);
  }

  /** The highest slot this disk knows anything about. */
  long highestSlot() {
    return Math.max(commitIndex, accepted.isEmpty() ? snapshotSlot : accepted.lastKey());
  }
}
