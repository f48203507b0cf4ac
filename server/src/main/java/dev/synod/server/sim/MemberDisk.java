package dev.synod.server.sim;

import dev.synod.consensus.DurableState;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ReplicaLog;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Snapshot;
import dev.synod.server.replication.SnapshotDownload;
import dev.synod.server.replication.SnapshotSource;
import dev.synod.server.storage.CorruptSnapshotException;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One member's durable state in the whole-server simulation: what a start recovers, where the
 * running member persists, and the disk faults the simulator injects. {@link StoreDisk} is the
 * server's real stores over a {@link SimulatedDisk}; {@link SimDisk} is a model of them, several
 * times faster (no MapDB snapshot files), which most seeds use (see {@link ServerSimulator}).
 *
 * <p>An IOException from any method means the member stops (it never limps on); one whose
 * message, or its cause's, starts with "simulated " is a fault the simulator asked for.
 */
interface MemberDisk {
  /** What a start recovers: as the server's start recovers it, in the same order. */
  record Recovered(ReplicaLog log, ClusterIdentity identity, Optional<Snapshot> snapshot,
      DurableState durable) {}

  /**
   * Opens the member's data and recovers, as a process start does with {@code config}'s command
   * line ({@code --initial-cluster-state} counts for an empty data directory only).
   *
   * @throws IOException if the disk fails meanwhile, or the data is refused (a finding, unless
   *     the simulator asked for that fault)
   */
  Recovered start(ServerConfig config, ClusterConfig cluster) throws IOException;

  /**
   * Writes the member's own snapshot durably, unless one as new is already stored (false).
   * {@code damage}: then a bad sector spoils it, so that the next start falls back to the one
   * before; never while no other sound snapshot is kept (two bad ones are a double fault after
   * which the store rightly refuses to start: an operator's restore from a backup).
   */
  boolean writeSnapshot(Snapshot snapshot, boolean damage) throws IOException;

  /** Stores a leader's snapshot durably, unless one as new is already stored (false). */
  boolean installSnapshot(Snapshot snapshot, long clusterId) throws IOException;

  /**
   * The running member's snapshot files, for followers that copy them as they copy a leader's
   * over the network; {@code current} takes a snapshot of its state (when none on disk is new
   * enough), and {@code failed} hears of a disk failure in writing it (the member stops). Null if
   * this disk keeps no files (a model): followers are then handed the leader's
   * state instead.
   */
  default SnapshotSource snapshotSource(Supplier<Snapshot> current, Consumer<IOException> failed) {
    return null;
  }

  /**
   * A new copy of a leader's snapshot file to this disk, for a member that just started (null if
   * this disk keeps no files).
   */
  default SnapshotDownload newDownload() {
    return null;
  }

  /**
   * Installs the copy of the snapshot at {@code slot} that a download made: verified and durable,
   * unless one as new is already stored (empty).
   *
   * @throws CorruptSnapshotException if the copy fails verification (not a disk failure)
   */
  default Optional<Snapshot> installReceived(long slot, long clusterId) throws IOException {
    throw new UnsupportedOperationException("this disk keeps no snapshot files");
  }

  /** The process died (kill -9, or it stopped on a storage error); the machine runs on. */
  void processDied();

  /** The machine lost power: what was written but not synced is torn. */
  void powerLoss();

  /** From now on, until the process dies, every fsync fails. */
  void failFsyncs();

  /** The power fails in the middle of the {@code n}-th fsync from now, wherever that is. */
  void crashAtFsync(int n);

  /** The faults planned and not yet happened are called off. */
  void cancelFaults();

  /**
   * The machine's disk was replaced, or its data directory deleted: nothing of the member is
   * left. Only while the process is down.
   */
  void wipe();
}
