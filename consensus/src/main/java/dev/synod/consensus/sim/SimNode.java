package dev.synod.consensus.sim;

import dev.synod.consensus.Membership;
import dev.synod.consensus.Replica;

/**
 * One simulated server: its disk (survives crashes), and, while it is up, its replica and the
 * state machine it applied (reduced to the applied slot and a running hash of the values).
 */
final class SimNode {
  final int id;
  final SimDisk disk;
  Replica replica;
  long appliedIndex;
  /** The membership its applied state holds (null: none decided yet, the founding voters). */
  Membership appliedMembership;
  long appliedHash = Invariants.HASH_START;
  boolean wasLeader;
  /** While now < pausedUntil the replica is stalled: no ticks, no deliveries. */
  long pausedUntil;

  /** {@code founding}: created with the cluster; a spare's empty disk is of an existing cluster. */
  SimNode(int id, boolean founding) {
    this.id = id;
    this.disk = new SimDisk(founding);
  }

  boolean up() {
    return replica != null;
  }

  /** After a crash only the disk remains. */
  void crash() {
    replica = null;
    wasLeader = false;
    pausedUntil = 0;
  }

  boolean paused(long now) {
    return now < pausedUntil;
  }

  /** On restart the state machine is the disk's snapshot; the log replays the rest. */
  void restoreFromSnapshot() {
    appliedIndex = disk.snapshotSlot();
    appliedHash = disk.snapshotHash();
    appliedMembership = disk.snapshotMembership();
  }
}
