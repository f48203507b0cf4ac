package dev.synod.server.sim;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Replica;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ReplicaLog;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A model of a member's durable state, for the seeds that do not run the real stores ({@link
 * StoreDisk}, several times slower): the acceptor's log as a list of records and the kept
 * snapshots as objects. What a {@link #persist} syncs survives a power loss; a commit mark
 * written without a sync is lost by one (a process that dies leaves it in the page cache, and the
 * next start keeps it). A failing fsync, or a power loss in the middle of one, lets a random
 * prefix of the records reach the disk and stops the member. It does not tear below a record,
 * reorder pages or exercise the real recovery code: {@link StoreDisk} does.
 */
final class SimDisk implements ReplicaLog, MemberDisk {
  /** One record of the simulated log. */
  private sealed interface Rec permits Promise, Accept, Commit {}

  private record Promise(Ballot ballot) implements Rec {}

  private record Accept(Entry entry) implements Rec {}

  private record Commit(long slot) implements Rec {}

  private final SplittableRandom random;
  private final List<Rec> synced = new ArrayList<>();
  private final List<Rec> unsynced = new ArrayList<>();
  /** Kept snapshots, oldest first; a damaged one is skipped at load. */
  private final List<Snapshot> snapshots = new ArrayList<>();
  private final List<Boolean> damaged = new ArrayList<>();
  private ClusterIdentity identity;
  private boolean fsyncFails;
  private int fsyncsUntilCrash; // 0: no crash planned

  SimDisk(long seed) {
    this.random = new SplittableRandom(seed);
  }

  // -----------------------------------------------------------------------------------------------
  // MemberDisk

  @Override
  public Recovered start(ServerConfig config, ClusterConfig cluster) throws IOException {
    if (identity == null) {
      // As ClusterCreation decides for the real stores: an empty directory heeds the command
      // line; one with a history but no identity learns the id from its leader.
      identity = isEmpty() && config.initialClusterState().equals(ServerConfig.CLUSTER_STATE_NEW)
          ? ClusterIdentity.founder() : ClusterIdentity.joiner();
    }
    Optional<Snapshot> snapshot = loadSnapshot();
    DurableState durable = recover(snapshot.map(Snapshot::slot).orElse(0L), identity.founding());
    return new Recovered(this, identity, snapshot, durable);
  }

  @Override
  public boolean writeSnapshot(Snapshot snapshot, boolean damage) throws IOException {
    sync(List.of());
    boolean anotherSound = !snapshots.isEmpty() && !damaged.contains(true);
    return storeSnapshot(snapshot, damage && anotherSound);
  }

  @Override
  public boolean installSnapshot(Snapshot snapshot, long clusterId) throws IOException {
    if (clusterId != 0 && !identity.known()) {
      recordClusterIdentity(identity.withId(clusterId)); // durable before the state it came with
    }
    sync(List.of());
    return storeSnapshot(snapshot, false);
  }

  @Override
  public void processDied() {
    // The page cache keeps what was written, and the next start's recovery syncs it.
    synced.addAll(unsynced);
    unsynced.clear();
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  @Override
  public void powerLoss() {
    unsynced.clear();
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  @Override
  public void failFsyncs() {
    fsyncFails = true;
  }

  @Override
  public void crashAtFsync(int n) {
    fsyncsUntilCrash = n;
  }

  @Override
  public void cancelFaults() {
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  @Override
  public void wipe() {
    synced.clear();
    unsynced.clear();
    snapshots.clear();
    damaged.clear();
    identity = null;
    cancelFaults();
  }

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
    sync(List.of());
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
  public void recordClusterIdentity(ClusterIdentity recorded) throws IOException {
    sync(List.of());
    identity = recorded;
  }

  /** Syncs the commit marks written since the last sync, then {@code records}; faults strike here. */
  private void sync(List<Rec> records) throws IOException {
    synced.addAll(unsynced);
    unsynced.clear();
    boolean crash = fsyncsUntilCrash > 0 && --fsyncsUntilCrash == 0;
    if (!crash && !fsyncFails) {
      synced.addAll(records);
      return;
    }
    int kept = random.nextInt(records.size() + 1);
    synced.addAll(records.subList(0, kept));
    if (crash) {
      powerLoss();
      throw new IOException("simulated crash");
    }
    throw new IOException("simulated fsync failure (" + kept + " of " + records.size()
        + " records reached the disk)");
  }

  // -----------------------------------------------------------------------------------------------
  // What a start reads

  private boolean isEmpty() {
    return synced.isEmpty() && unsynced.isEmpty() && snapshots.isEmpty();
  }

  /** The newest undamaged snapshot. */
  private Optional<Snapshot> loadSnapshot() {
    for (int i = snapshots.size() - 1; i >= 0; i--) {
      if (!damaged.get(i)) {
        return Optional.of(snapshots.get(i));
      }
    }
    return Optional.empty();
  }

  /** Stores a snapshot unless one as new is already kept; keeps the newest two. */
  private boolean storeSnapshot(Snapshot s, boolean damage) {
    if (!snapshots.isEmpty() && snapshots.get(snapshots.size() - 1).slot() >= s.slot()) {
      return false;
    }
    snapshots.add(s);
    damaged.add(damage);
    while (snapshots.size() > 2) {
      snapshots.remove(0);
      damaged.remove(0);
    }
    return true;
  }

  /** The acceptor state the log holds, above {@code snapshotSlot}, as {@code AcceptorLog} recovers it. */
  private DurableState recover(long snapshotSlot, boolean founding) throws IOException {
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
        throw new CorruptLogException("simulated log says slot " + commit + " is decided but"
            + " holds no value for slot " + slot);
      }
    }
    DurableState.Standing standing = promisedEver ? DurableState.Standing.VOTER
        : founding ? DurableState.Standing.FOUNDING : DurableState.Standing.JOINING;
    return new DurableState(promised, live, commit, snapshotSlot, standing);
  }
}
