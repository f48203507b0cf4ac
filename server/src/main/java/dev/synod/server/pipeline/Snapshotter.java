package dev.synod.server.pipeline;

import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Takes a snapshot every {@code everyTxns} applied transactions. The copy of the state is made on
 * the commit thread (cheap: nodes are immutable values); writing it to disk and truncating the
 * log happen on a background thread while writes go on. The snapshot's slot is the index of the
 * last log record applied ({@link LocalSequencer} logs one record per batch, at slot = index).
 */
public final class Snapshotter implements AutoCloseable {
  private final StateMachine state;
  private final DurableStore store;
  private final long everyTxns;
  private final FatalHandler fatal;
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-snapshot");
    t.setDaemon(true);
    return t;
  });
  private volatile long lastSnapshotZxid;
  private volatile boolean inProgress;
  private volatile long snapshotsWritten;

  public Snapshotter(StateMachine state, DurableStore store, long everyTxns, FatalHandler fatal) {
    this.state = state;
    this.store = store;
    this.everyTxns = everyTxns;
    this.fatal = fatal;
    this.lastSnapshotZxid = store.snapshotZxid();
  }

  /** Called by the commit thread after each applied batch. */
  public void afterApply(long zxid) {
    if (inProgress || zxid - lastSnapshotZxid < everyTxns) {
      return;
    }
    long slot = store.lastIndex(); // the record of the batch just applied
    if (slot < store.snapshotSlot()) {
      return; // a log restarted beside a newer snapshot: wait until it has caught up
    }
    inProgress = true;
    Snapshot snapshot = state.snapshot().withSlot(slot);
    writer.execute(() -> write(snapshot));
  }

  private void write(Snapshot snapshot) {
    try {
      long previous = store.snapshotSlot();
      store.writeSnapshot(snapshot);
      // Keep what the snapshot before this one needs, so falling back to it still finds its log.
      store.truncateLogBefore(previous + 1);
      lastSnapshotZxid = snapshot.zxid();
      snapshotsWritten++;
    } catch (Exception | Error e) {
      fatal.fatal("snapshot at zxid " + snapshot.zxid() + " failed", e);
    } finally {
      inProgress = false;
    }
  }

  public long snapshotsWritten() {
    return snapshotsWritten;
  }

  @Override
  public void close() {
    writer.shutdown();
    try {
      writer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
