package dev.synod.server.replication;

import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * This server's snapshot files as a {@link SnapshotSource} sees them. A follower may need a
 * snapshot newer than any on disk (it was told of another leader's compaction point): one is then
 * taken on the loop's thread, as of what is applied, and written like the loop's own.
 */
final class SnapshotFiles implements SnapshotSource.Files {
  private final DurableStore store;
  private final ReplicaRunner runner;
  private final FatalHandler fatal;

  SnapshotFiles(DurableStore store, ReplicaRunner runner, FatalHandler fatal) {
    this.store = store;
    this.runner = runner;
    this.fatal = fatal;
  }

  @Override
  public SortedMap<Long, Path> list() throws IOException {
    return store.snapshotFiles();
  }

  @Override
  public void writeCovering(long minSlot) throws IOException, InterruptedException {
    Snapshot s = take(minSlot);
    try {
      store.writeSnapshot(s);
    } catch (IOException | RuntimeException e) {
      fatal.fatal("snapshot at slot " + s.slot() + " (for a follower) failed", e);
      throw e;
    }
  }

  @Override
  public boolean setAsideIfDamaged(long slot) throws IOException {
    return store.setAsideIfDamaged(slot);
  }

  /** A snapshot of the current state covering {@code minSlot}, taken on the loop's thread. */
  private Snapshot take(long minSlot) throws InterruptedException {
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    if (!runner.post(new ReplicaEvent.SnapshotWanted(minSlot, result::complete))) {
      throw new IllegalStateException("the leader is overloaded; retry the snapshot fetch");
    }
    try {
      Snapshot s = result.get(30, TimeUnit.SECONDS);
      if (s == null) {
        throw new IllegalStateException("this server is shutting down");
      }
      if (s.slot() < minSlot) {
        throw new IllegalStateException("this server has applied only up to slot " + s.slot());
      }
      return s;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not take a snapshot: " + e);
    }
  }
}
