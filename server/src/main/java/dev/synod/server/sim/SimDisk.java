package dev.synod.server.sim;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Replica;
import dev.synod.server.replication.ReplicaLog;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;

/**
 * One member's disk in the whole-server simulation: the acceptor's log and the kept snapshots.
 * What a {@link #persist} syncs survives a crash; a commit mark written without a sync is lost
 * by one. A failing fsync ({@link #failNextSync}) tears the write (only a prefix of its records
 * reaches the disk) and stops the member, as a real storage error does.
 */
final class SimDisk implements ReplicaLog {
  /** One record of the simulated log. */
  private sealed interface Rec permits Promise, Accept, Commit {}

  private record Promise(Ballot ballot) implements Rec {}

  private record Accept(Entry entry) implements Rec {}

  private record Commit(long slot) implements Rec {}

  private final List<Rec> synced = new ArrayList<>();
  private final List<Rec> unsynced = new ArrayList<>();
  /** Kept snapshots, oldest first; a damaged one is skipped at load. */
  private final List<Snapshot> snapshots = new ArrayList<>();
  private final List<Boolean> damaged = new ArrayList<>();
  private IntUnaryOperator tornPrefix;
  private ClusterIdentity identity;
  private long syncs;

  // -----------------------------------------------------------------------------------------------
  // ReplicaLog

  @Override
  public void persist(Replica.Ready ready) throws IOException {
    List<Rec> records = new ArrayList<>();
    if (ready.promised() != null) {
      records.add(new Promise(ready.promised()));
    }
    for (Entry e : ready.entries()) {
      records.add(new Accept(e));
    }
    if (ready.commitIndex() >= 0) {
      records.add(new Commit(ready.commitIndex()));
    }
    if (records.isEmpty()) {
      return;
    }
    if (ready.promised() == null && ready.entries().isEmpty()) {
      unsynced.addAll(records); // a commit mark alone is written without waiting for the disk
      return;
    }
    sync(records);
  }

  @Override
  public void truncateCoveredBy(long oldestKeptSnapshotSlot) throws IOException {
    Ballot promised = null;
    long commit = 0;
    for (Rec r : synced) {
      if (r instanceof Promise p) {
        promised = promised == null || p.ballot().isAbove(promised) ? p.ballot() : promised;
      } else if (r instanceof Commit c) {
        commit = Math.max(commit, c.slot());
      }
    }
    List<Rec> keep = new ArrayList<>();
    if (promised != null) {
      keep.add(new Promise(promised));
    }
    for (Rec r : synced) {
      if (r instanceof Accept a && a.entry().slot() > oldestKeptSnapshotSlot) {
        keep.add(r);
      }
    }
    keep.add(new Commit(commit));
    synced.clear();
    synced.addAll(keep);
  }

  @Override
  public void snapshotInstalled(long slot) {}

  @Override
  public void recordClusterIdentity(ClusterIdentity recorded) {
    identity = recorded;
  }

  /** The cluster this disk belongs to, as last recorded; empty on a new (or wiped) disk. */
  ClusterIdentity identity() {
    return identity;
  }

  /** A new disk, as the operator prepares it: a founder of a new cluster, or a joiner. */
  void prepare(ClusterIdentity initial) {
    if (identity == null) {
      identity = initial;
    }
  }

  private void sync(List<Rec> records) throws IOException {
    synced.addAll(unsynced);
    unsynced.clear();
    syncs++;
    if (tornPrefix != null) {
      int kept = tornPrefix.applyAsInt(records.size());
      tornPrefix = null;
      synced.addAll(records.subList(0, Math.min(kept, records.size())));
      throw new IOException("simulated fsync failure (" + kept + " of " + records.size()
          + " records reached the disk)");
    }
    synced.addAll(records);
  }

  // -----------------------------------------------------------------------------------------------
  // Faults and recovery

  /** The next sync fails after {@code keep(n)} of its n records reached the disk. */
  void failNextSync(IntUnaryOperator keep) {
    tornPrefix = keep;
  }

  /** A crash: what was not synced is gone. */
  void crash() {
    unsynced.clear();
    tornPrefix = null;
  }

  /** Wipes everything, as a replaced or reformatted disk. */
  void wipe() {
    synced.clear();
    unsynced.clear();
    snapshots.clear();
    damaged.clear();
    identity = null;
  }

  boolean isEmpty() {
    return synced.isEmpty() && snapshots.isEmpty();
  }

  /** The newest undamaged snapshot. */
  Optional<Snapshot> loadSnapshot() {
    for (int i = snapshots.size() - 1; i >= 0; i--) {
      if (!damaged.get(i)) {
        return Optional.of(snapshots.get(i));
      }
    }
    return Optional.empty();
  }

  /** Stores a snapshot unless one as new is already kept; keeps the newest two. */
  boolean storeSnapshot(Snapshot s, boolean damage) {
    if (!snapshots.isEmpty() && snapshots.get(snapshots.size() - 1).slot() >= s.slot()) {
      return false;
    }
    snapshots.add(s);
    // At most one kept snapshot is damaged: two at once is losing the member's data, which is a
    // disk to replace (an operator's job), not a fault the server recovers from by itself.
    damaged.add(damage && !damaged.contains(true));
    while (snapshots.size() > 2) {
      snapshots.remove(0);
      damaged.remove(0);
    }
    return true;
  }

  /** The acceptor state the log holds, above {@code snapshotSlot}, as {@code AcceptorLog} recovers it. */
  DurableState recover(long snapshotSlot, boolean founding) {
    Ballot promised = Ballot.ZERO;
    boolean promisedEver = false;
    long commit = 0;
    TreeMap<Long, Entry> accepted = new TreeMap<>();
    for (Rec r : synced) {
      if (r instanceof Promise p) {
        promised = p.ballot().isAbove(promised) ? p.ballot() : promised;
        promisedEver = true;
      } else if (r instanceof Accept a) {
        accepted.put(a.entry().slot(), a.entry());
        promised = a.entry().ballot().isAbove(promised) ? a.entry().ballot() : promised;
      } else if (r instanceof Commit c) {
        commit = Math.max(commit, c.slot());
      }
    }
    TreeMap<Long, Entry> live = new TreeMap<>(accepted.tailMap(snapshotSlot, false));
    commit = Math.max(commit, snapshotSlot);
    for (long slot = snapshotSlot + 1; slot <= commit; slot++) {
      if (!live.containsKey(slot)) {
        throw new IllegalStateException("simulated log says slot " + commit + " is decided but"
            + " holds no value for slot " + slot);
      }
    }
    DurableState.Standing standing = promisedEver ? DurableState.Standing.VOTER
        : founding ? DurableState.Standing.FOUNDING : DurableState.Standing.JOINING;
    return new DurableState(promised, live, commit, snapshotSlot, standing);
  }

  long syncs() {
    return syncs;
  }
}
