package dev.synod.server.sim;

import dev.synod.consensus.DurableState;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.replication.AcceptorLog;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ClusterCreation;
import dev.synod.server.replication.SnapshotDownload;
import dev.synod.server.replication.SnapshotSource;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A member's durable state in the server's real stores: the {@link AcceptorLog} in a {@link
 * DurableStore} (write-ahead log, snapshot store, cluster identity file) on the member's own
 * {@link SimulatedDisk}. A start recovers exactly as the server's does; a power loss tears and
 * reorders unsynced pages, a failed fsync stops the member, a bad sector in the newest snapshot
 * makes the next start fall back to the one before.
 */
final class StoreDisk implements MemberDisk {
  /** The data directory, on the member's own disk. */
  private static final Path DATA_DIR = Path.of("/synod/data");

  /** Bytes a follower asks its leader for per call. */
  static final long DOWNLOAD_WINDOW_BYTES = 32 << 10;

  private final java.util.SplittableRandom random;
  private SimulatedDisk disk;
  /** Snapshot files with a bad sector that are still among those on disk. */
  private final Set<Path> damaged = new TreeSet<>();
  private DurableStore store; // the running process's; null while it is down

  StoreDisk(long seed) {
    // Sectors, not pages, are what a power loss keeps or loses: the log's small writes tear too.
    this.random = new java.util.SplittableRandom(seed);
    this.disk = new SimulatedDisk(random.nextLong(), SimulatedDisk.SECTOR_BYTES);
  }

  @Override
  public Recovered start(ServerConfig config, ClusterConfig cluster) throws IOException {
    // A process that died closed nothing: the disk dropped its files and lock.
    store = DurableStore.open(disk, DATA_DIR, config.segmentBytesMax(), FaultInjector.NONE);
    ClusterIdentity identity = ClusterCreation.establish(config, cluster, store);
    Optional<Snapshot> snapshot = store.loadSnapshot();
    AcceptorLog log = new AcceptorLog(store);
    DurableState durable = log.recover(snapshot.map(Snapshot::slot).orElse(0L), identity.founding());
    return new Recovered(log, identity, snapshot, durable);
  }

  @Override
  public boolean writeSnapshot(Snapshot snapshot, boolean damage) throws IOException {
    boolean stored = store.writeSnapshot(snapshot);
    if (stored && damage) {
      damageNewestSnapshot();
    }
    return stored;
  }

  private void damageNewestSnapshot() throws IOException {
    SortedMap<Long, Path> files = store.snapshotFiles();
    damaged.retainAll(files.values()); // pruned, or set aside by a start
    if (files.size() < 2 || !damaged.isEmpty()) {
      return;
    }
    Path newest = files.get(files.lastKey());
    if (disk.damage(newest)) {
      damaged.add(newest);
    }
  }

  @Override
  public boolean installSnapshot(Snapshot snapshot, long clusterId) throws IOException {
    store.learnClusterIdOfSnapshot(clusterId);
    return store.installSnapshot(snapshot);
  }

  @Override
  public SnapshotSource snapshotSource(Supplier<Snapshot> current, Consumer<IOException> failed) {
    DurableStore running = store;
    return new SnapshotSource(running.disk(), new SnapshotSource.Files() {
      @Override
      public SortedMap<Long, Path> list() throws IOException {
        return running.snapshotFiles();
      }

      @Override
      public boolean setAsideIfDamaged(long slot) throws IOException {
        try {
          return running.setAsideIfDamaged(slot);
        } catch (IOException e) {
          failed.accept(e);
          throw e;
        }
      }

      @Override
      public void writeCovering(long minSlot) throws IOException {
        try {
          running.writeSnapshot(current.get());
        } catch (IOException e) {
          failed.accept(e);
          throw e;
        }
      }
    });
  }

  @Override
  public SnapshotDownload newDownload() {
    // Small windows, so that a snapshot of the simulation's size takes several calls.
    return new SnapshotDownload(store.disk(), store::incomingSnapshotFile, DOWNLOAD_WINDOW_BYTES);
  }

  @Override
  public Optional<Snapshot> installReceived(long slot, long clusterId) throws IOException {
    return store.installReceivedSnapshot(slot, clusterId);
  }

  @Override
  public void processDied() {
    store = null;
    disk.kill();
  }

  @Override
  public void powerLoss() {
    store = null;
    disk.crash();
  }

  @Override
  public void failFsyncs() {
    disk.failFsyncs();
  }

  @Override
  public void crashAtFsync(int n) {
    disk.crashAtFsync(n);
  }

  @Override
  public void cancelFaults() {
    disk.cancelFaults();
  }

  @Override
  public void wipe() {
    store = null;
    damaged.clear();
    disk = new SimulatedDisk(random.nextLong(), SimulatedDisk.SECTOR_BYTES);
  }
}
