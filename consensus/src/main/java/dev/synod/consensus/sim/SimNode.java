package dev.synod.consensus.sim;

import dev.synod.consensus.Replica;

/**
 * One simulated server: its disk (survives crashes), and, while it is up, its replica and the
 * state machine it applied (reduced to the applied slot and a running hash of the values).
 */
final class SimNode {
  final int id;
  final SimDisk disk = new SimDisk();
  Replica replica;
  long appliedIndex;
  long appliedHash = Invariants.HASH_START;
  boolean wasLeader;
  /** While now < pausedUntil the replica is stalled: no ticks, no deliveries. */
  long pausedUntil;

  SimNode(int id) {
    this.id = id;
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
  }
}
