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
 * log happen on a background thread while writes go on.
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
    inProgress = true;
    Snapshot snapshot = state.snapshot();
    writer.execute(() -> write(snapshot));
  }

  private void write(Snapshot snapshot) {
    try {
      store.writeSnapshot(snapshot);
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
