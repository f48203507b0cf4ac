package dev.synod.server.storage;

import dev.synod.txn.v1.Txn;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The server's durable state: a locked {@link DataDir} holding the {@link TxnLog} and the {@link
 * SnapshotStore}.
 *
 * <p>Recovery: {@code state = loadSnapshot()} (or empty), then {@code replayLog(snapshotZxid(),
 * apply)}. After that, the commit thread calls {@link #appendAndSync} once per batch, and a
 * background thread may call {@link #writeSnapshot} at the same time.
 *
 * <p>Every IOException means the durable state can no longer be trusted to match memory: the caller
 * stops the server.
 */
public final class DurableStore implements Closeable {
  static final String LOG_TRUNCATED = "snapshot.log-truncated";

  private final DataDir dataDir;
  private final TxnLog log;
  private final SnapshotStore snapshots;
  private final FaultInjector faults;
  private volatile long snapshotZxid;

  /** The snapshot verified at open, handed over once by loadSnapshot() so it is read only once. */
  private Optional<Snapshot> recovered;

  private DurableStore(
      DataDir dataDir,
      TxnLog log,
      SnapshotStore snapshots,
      FaultInjector faults,
      Optional<Snapshot> recovered) {
    this.dataDir = dataDir;
    this.log = log;
    this.snapshots = snapshots;
    this.faults = faults;
    this.recovered = recovered;
    this.snapshotZxid = recovered.map(Snapshot::zxid).orElse(0L);
  }

  /**
   * Creates the layout in {@code dataDir} if needed, locks it, loads and verifies the newest valid
   * snapshot, and opens the log (cutting off a torn tail).
   *
   * @throws IOException if the directory is in use, or the log or every snapshot is corrupt
   */
  public static DurableStore open(Path dataDir, long segmentBytesMax, FaultInjector faults)
      throws IOException {
    DataDir dir = DataDir.open(dataDir);
    try {
      SnapshotStore snapshots = new SnapshotStore(dir.snapshotDir(), faults);
      Optional<Snapshot> newest = snapshots.loadLatest();
      TxnLog log = TxnLog.open(dir.logDir(), segmentBytesMax);
      return new DurableStore(dir, log, snapshots, faults, newest);
    } catch (IOException | RuntimeException e) {
      try {
        dir.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
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

  /** Feeds {@code apply} every logged Txn after {@code afterZxid}, in order. */
  public void replayLog(long afterZxid, Consumer<Txn> apply) throws IOException {
    log.replay(afterZxid, apply);
  }

  /**
   * Makes {@code batch} durable: appends it and fsyncs once. Commit thread only.
   *
   * @throws IllegalStateException if the batch does not start at {@link #lastZxid()} + 1
   */
  public void appendAndSync(List<Txn> batch) throws IOException {
    if (batch.isEmpty()) {
      return;
    }
    long expected = lastZxid() + 1;
    if (batch.get(0).getZxid() != expected) {
      throw new IllegalStateException(
          "batch starts at zxid " + batch.get(0).getZxid() + ", expected " + expected);
    }
    log.append(batch);
    log.sync();
  }

  /**
   * Writes {@code snapshot}, then drops the log segments that neither it nor the snapshot before it
   * needs: falling back to the previous snapshot must still find its log. May run while the commit
   * thread appends.
   */
  public void writeSnapshot(Snapshot snapshot) throws IOException {
    snapshots.write(snapshot);
    snapshotZxid = Math.max(snapshotZxid, snapshot.zxid());
    List<Long> kept = snapshots.zxids();
    if (kept.size() >= 2) {
      log.truncateBefore(kept.get(1) + 1);
    }
    faults.at(LOG_TRUNCATED);
  }

  /** The zxid of the newest durable Txn: the log's last, or the snapshot's if that is newer. */
  public long lastZxid() {
    // The log is normally ahead of the snapshot; it is behind only when it holds nothing yet
    // (fresh log beside a snapshot), and then the next Txn follows the snapshot.
    return Math.max(log.lastZxid(), snapshotZxid);
  }

  /** The zxid of the newest valid snapshot (the one recovered or last written), 0 if none. */
  public long snapshotZxid() {
    return snapshotZxid;
  }

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
