package dev.synod.server.storage;

import dev.synod.txn.v1.LogEntry;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The server's durable state: a locked {@link DataDir} holding the {@link WriteAheadLog} (this
 * server's acceptor records) and the {@link SnapshotStore} (state snapshots, by slot).
 *
 * <p>Recovery: {@code state = loadSnapshot()} (or empty); {@code replayLog(sink)} feeds every
 * record the log holds, from which the caller rebuilds its acceptor state (records older than the
 * snapshot may come first). After that, one thread (the commit thread) calls {@link #appendAndSync}
 * per batch, while others may call {@link #writeSnapshot}, {@link #installSnapshot} and {@link
 * #truncateLogBefore} at the same time.
 *
 * <p>The store never truncates the log by itself: the caller, which knows which records it still
 * needs, calls {@link #truncateLogBefore} (normally right after a snapshot).
 *
 * <p>Every IOException means the durable state can no longer be trusted to match memory: the caller
 * stops the server.
 */
public final class DurableStore implements Closeable {
  static final String LOG_TRUNCATED = "snapshot.log-truncated";

  /** The newest valid snapshot's slot and zxid (0, 0 if none), read together. */
  private record Newest(long slot, long zxid) {}

  private final Disk disk;
  private final DataDir dataDir;
  private final WriteAheadLog log;
  private final SnapshotStore snapshots;
  private final FaultInjector faults;
  private final boolean fresh;
  private volatile Newest newest;

  /**
   * The snapshot verified at open, handed over once by loadSnapshot() so it is read only once; null
   * once handed over or once a newer snapshot was written. Guarded by this.
   */
  private Optional<Snapshot> recovered;

  private DurableStore(
      Disk disk,
      DataDir dataDir,
      WriteAheadLog log,
      SnapshotStore snapshots,
      FaultInjector faults,
      Optional<Snapshot> recovered) {
    this.disk = disk;
    this.dataDir = dataDir;
    this.log = log;
    this.snapshots = snapshots;
    this.faults = faults;
    this.recovered = recovered;
    this.newest = recovered.map(s -> new Newest(s.slot(), s.zxid())).orElse(new Newest(0, 0));
    this.fresh = recovered.isEmpty() && log.lastIndex() == 0;
  }

  /**
   * Opens the store in {@code dataDir} of the real file system (see {@link #open(Disk, Path, long,
   * FaultInjector)}).
   */
  public static DurableStore open(Path dataDir, long segmentBytesMax, FaultInjector faults)
      throws IOException {
    return open(Disk.REAL, dataDir, segmentBytesMax, faults);
  }

  /**
   * Creates the layout in {@code dataDir} on {@code disk} if needed, locks it, loads and verifies
   * the newest valid snapshot, and opens the log (cutting off a torn final write).
   *
   * @param disk {@link Disk#REAL}, or a simulated disk
   * @throws IOException if the directory is in use, or the log or every snapshot is corrupt
   */
  public static DurableStore open(
      Disk disk, Path dataDir, long segmentBytesMax, FaultInjector faults) throws IOException {
    DataDir dir = DataDir.open(dataDir, disk);
    try {
      SnapshotStore snapshots = new SnapshotStore(disk, dir.snapshotDir(), faults);
      Optional<Snapshot> newest = snapshots.loadLatest();
      WriteAheadLog log = WriteAheadLog.open(disk, dir.logDir(), segmentBytesMax);
      return new DurableStore(disk, dir, log, snapshots, faults, newest);
    } catch (IOException | RuntimeException e) {
      try {
        dir.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /**
   * Whether the data directory held nothing when it was opened: no valid snapshot and no log record
   * (a brand-new or wiped directory). Fixed at open; writes since do not change it.
   */
  public boolean isFresh() {
    return fresh;
  }

  /** The cluster this data directory belongs to, if recorded (see {@link DataDir#readIdentity}). */
  public Optional<ClusterIdentity> clusterIdentity() throws IOException {
    return dataDir.readIdentity();
  }

  /** Records the cluster this data directory belongs to, durably. */
  public synchronized void recordClusterIdentity(ClusterIdentity identity) throws IOException {
    dataDir.writeIdentity(identity);
  }

  /**
   * Before a snapshot from another member is installed: records durably the id of the cluster it
   * came from ({@code clusterId}; 0: the sender did not know one), unless this directory knows its
   * cluster's id already. A member never applies again the slots a snapshot covers, and so never
   * the slot that decided its cluster's id: were the snapshot durable and the id not (a crash in
   * between), it would restart past that slot not knowing the id, and, leading, propose another
   * one that it alone would adopt.
   */
  public synchronized void learnClusterIdOfSnapshot(long clusterId) throws IOException {
    if (clusterId == 0) {
      return;
    }
    ClusterIdentity known = clusterIdentity().orElse(ClusterIdentity.joiner());
    if (!known.known()) {
      recordClusterIdentity(known.withId(clusterId));
    }
  }

  /** The newest valid snapshot, or empty if there is none. */
  public synchronized Optional<Snapshot> loadSnapshot() throws IOException {
    Optional<Snapshot> snapshot = recovered;
    if (snapshot == null) {
      return snapshots.loadLatest();
    }
    recovered = null; // the caller now owns it; don't pin a whole tree in memory
    return snapshot;
  }

  /**
   * The snapshot files present (valid or not, not counting those set aside as damaged), by slot:
   * for the simulator, which damages them as a bad sector would.
   */
  public SortedMap<Long, Path> snapshotFiles() throws IOException {
    SortedMap<Long, Path> files = new TreeMap<>();
    for (long slot : snapshots.slots()) {
      files.put(slot, snapshots.fileOf(slot));
    }
    return files;
  }

  /** The slot of the newest valid snapshot (the one recovered, written or installed), 0 if none. */
  public long snapshotSlot() {
    return newest.slot();
  }

  /** The zxid of the newest valid snapshot (the one recovered, written or installed), 0 if none. */
  public long snapshotZxid() {
    return newest.zxid();
  }

  /**
   * Feeds {@code sink} every record the log holds, in index order, from the oldest one kept. For
   * recovery: call it before appends start, on the thread that will append, and not while {@link
   * #truncateLogBefore} runs.
   */
  public void replayLog(Consumer<LogEntry> sink) throws IOException {
    log.replayAll(sink);
  }

  /**
   * Makes {@code batch} durable: gives its records the indexes {@link #lastIndex()} + 1 onwards
   * (whatever index they carry is ignored), appends them and fsyncs once. Commit thread only.
   *
   * @throws IllegalArgumentException if a record is too large for the log (nothing is appended)
   */
  public void appendAndSync(List<LogEntry> batch) throws IOException {
    if (append(batch)) {
      log.sync();
    }
  }

  /**
   * Appends {@code batch} without waiting for it to reach the disk: for records whose loss in a
   * crash is harmless (a commit mark, which is re-learned), they become durable with the next
   * {@link #appendAndSync}. Commit thread only.
   */
  public void appendWithoutSync(List<LogEntry> batch) throws IOException {
    append(batch);
  }

  private boolean append(List<LogEntry> batch) throws IOException {
    if (batch.isEmpty()) {
      return false;
    }
    long index = log.lastIndex() + 1;
    List<LogEntry> indexed = new ArrayList<>(batch.size());
    for (LogEntry entry : batch) {
      indexed.add(entry.getIndex() == index ? entry : entry.toBuilder().setIndex(index).build());
      index++;
    }
    log.append(indexed);
    return true;
  }

  /** The index of the last record appended, or 0 if the log never held one. */
  public long lastIndex() {
    return log.lastIndex();
  }

  /**
   * Writes {@code snapshot} (this server's own) as the newest (temp file, fsync, rename, directory
   * fsync, keep the newest two), unless it is not newer than {@link #snapshotSlot()}. Does not
   * touch the log. May run while the commit thread appends.
   *
   * @return false, having done nothing, if a snapshot of the same or a higher slot is already on
   *     disk (say one from the leader, installed while this one was being made): the caller must
   *     then not count on this one being kept, nor truncate the log for it
   */
  public synchronized boolean writeSnapshot(Snapshot snapshot) throws IOException {
    return write(snapshot);
  }

  /**
   * Writes {@code snapshot}, received from another server, exactly as {@link #writeSnapshot}: it
   * becomes the newest, which {@link #loadSnapshot}, {@link #snapshotSlot} and {@link
   * #snapshotZxid} report, unless it is not newer than {@link #snapshotSlot()}.
   *
   * @return false, having done nothing, if a snapshot of the same or a higher slot is already on
   *     disk (this server then holds that state, or a newer one, already)
   */
  public synchronized boolean installSnapshot(Snapshot snapshot) throws IOException {
    return write(snapshot);
  }

  private boolean write(Snapshot snapshot) throws IOException {
    if (!snapshots.write(snapshot)) {
      return false;
    }
    newest = new Newest(snapshot.slot(), snapshot.zxid());
    recovered = null; // loadSnapshot() now reads the newest from disk
    return true;
  }

  /**
   * The disk this store is on: snapshot transfer reads the snapshot files and writes {@link
   * #incomingSnapshotFile} through it.
   */
  public Disk disk() {
    return disk;
  }

  /** Where a snapshot received from another server is written before it is installed. */
  public Path incomingSnapshotFile(long slot) {
    return snapshots.incomingFile(slot);
  }

  /**
   * Installs the whole snapshot file received from another server at {@link
   * #incomingSnapshotFile}{@code (slot)}: verified, it becomes the newest, which {@link
   * #loadSnapshot}, {@link #snapshotSlot} and {@link #snapshotZxid} report (see {@link
   * SnapshotStore#installReceived}).
   *
   * @param clusterId the sender's cluster id, made durable first ({@link #learnClusterIdOfSnapshot})
   * @return the snapshot, loaded; empty if a snapshot of the same or a higher slot is on disk
   * @throws CorruptSnapshotException if the received file fails verification (it is deleted)
   */
  public synchronized Optional<Snapshot> installReceivedSnapshot(long slot, long clusterId)
      throws IOException {
    learnClusterIdOfSnapshot(clusterId);
    Optional<Snapshot> installed = snapshots.installReceived(snapshots.incomingFile(slot), slot);
    installed.ifPresent(s -> {
      newest = new Newest(s.slot(), s.zxid());
      recovered = null;
    });
    return installed;
  }

  /**
   * Verifies the snapshot file at {@code slot} as a load does; one that fails is set aside (as a
   * start sets aside a damaged newest snapshot) and true returned. For a leader whose file a
   * follower's copy found damaged: it must not send it again.
   */
  public synchronized boolean setAsideIfDamaged(long slot) throws IOException {
    // The log still holds what the older kept snapshot needs, and the caller writes a new one at
    // once; snapshotSlot() goes on naming this slot, whose state the server holds in memory.
    return snapshots.setAsideIfDamaged(slot);
  }

  /**
   * Deletes the log segments all of whose records have indexes below {@code index}, oldest first,
   * never the one being appended to; so every record from {@code index} on is kept. Then reaches
   * the fault point {@value #LOG_TRUNCATED}. May run while the commit thread appends.
   */
  public void truncateLogBefore(long index) throws IOException {
    log.truncateBefore(index);
    faults.at(LOG_TRUNCATED);
  }

  /** Bytes the log takes on disk. */
  public long logBytes() {
    return log.sizeBytes();
  }

  /** Syncs and closes the log, then releases the directory lock. */
  @Override
  public void close() throws IOException {
    try {
      log.close();
    } finally {
      dataDir.close();
    }
  }
}
