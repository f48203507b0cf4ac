package dev.synod.server.storage;

import static dev.synod.server.storage.SnapshotStoreTest.assertSameSnapshot;
import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.replayed;
import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.truncate;
import static dev.synod.server.storage.StorageTestData.unindexed;
import static dev.synod.server.storage.StorageTestData.zxidAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's contract: the log keeps every record (indexes assigned by the store) until the caller
 * truncates it; snapshots are by slot, the newest two kept, the newest valid one loaded.
 */
class DurableStoreTest {
  private static final long SEGMENT_BYTES = 512;

  @TempDir Path dir;

  @Test
  void recoversTheNewestSnapshotAndTheWholeLog() throws IOException {
    writeHistory();
    try (DurableStore store = open()) {
      assertFalse(store.isFresh());
      assertEquals(200, store.snapshotSlot());
      assertEquals(zxidAt(200), store.snapshotZxid());
      assertEquals(250, store.lastIndex());
      assertSameSnapshot(snapshot(200, 100, 2), store.loadSnapshot().orElseThrow());
      // Snapshots do not truncate the log: everything, in order, older records included.
      assertEquals(entries(1, 250), replayed(store));
      assertTrue(
          Files.exists(dir.resolve("snapshots").resolve("snapshot-00000000000000000200.db")));
      assertTrue(
          Files.exists(dir.resolve("snapshots").resolve("snapshot-00000000000000000100.db")));
    }
  }

  @Test
  void aCorruptNewestSnapshotFallsBackToThePrevious() throws IOException {
    writeHistory();
    Path newest = dir.resolve("snapshots").resolve(SnapshotFile.fileName(200));
    truncate(newest, Files.size(newest) / 3);
    try (DurableStore store = open()) {
      assertEquals(100, store.snapshotSlot());
      assertEquals(zxidAt(100), store.snapshotZxid());
      assertSameSnapshot(snapshot(100, 100, 2), store.loadSnapshot().orElseThrow());
      assertEquals(entries(1, 250), replayed(store));
      assertEquals(250, store.lastIndex());
    }
  }

  @Test
  void truncateLogBeforeKeepsEveryRecordFromTheIndex() throws IOException {
    writeHistory();
    try (DurableStore store = open()) {
      long bytesBefore = store.logBytes();
      store.truncateLogBefore(101);
      List<LogEntry> kept = replayed(store);
      long first = kept.get(0).getIndex();
      assertTrue(first > 1 && first <= 101, "first kept index " + first);
      assertEquals(entries(first, 250), kept);
      assertTrue(store.logBytes() < bytesBefore);
      assertFalse(Files.exists(dir.resolve("log").resolve(LogSegment.fileName(1))));

      store.truncateLogBefore(Long.MAX_VALUE);
      List<LogEntry> current = replayed(store);
      assertFalse(current.isEmpty(), "the current segment stays");
      assertEquals(250, store.lastIndex());
      store.appendAndSync(unindexed(251, 260));
      assertEquals(entries(current.get(0).getIndex(), 260), replayed(store));
    }
    try (DurableStore store = open()) {
      assertEquals(260, store.lastIndex());
      assertEquals(260, replayed(store).get(replayed(store).size() - 1).getIndex());
      assertSameSnapshot(snapshot(200, 100, 2), store.loadSnapshot().orElseThrow());
    }
  }

  @Test
  void theStoreAssignsIndexes() throws IOException {
    try (DurableStore store = open()) {
      assertEquals(0, store.lastIndex());
      store.appendAndSync(unindexed(1, 7));
      assertEquals(7, store.lastIndex());
      // Whatever index a caller leaves in a record is replaced.
      List<LogEntry> stale = new ArrayList<>(unindexed(8, 10));
      stale.set(1, stale.get(1).toBuilder().setIndex(3).build());
      store.appendAndSync(stale);
      store.appendAndSync(List.of());
      assertEquals(10, store.lastIndex());
      assertEquals(entries(1, 10), replayed(store));
    }
    try (DurableStore store = open()) {
      store.appendAndSync(unindexed(11, 12));
      assertEquals(entries(1, 12), replayed(store));
    }
  }

  @Test
  void aFreshDirectoryIsFreshUntilItHoldsARecordOrASnapshot() throws IOException {
    Path appended = dir.resolve("appended");
    try (DurableStore store = open(appended)) {
      assertTrue(store.isFresh());
      assertEquals(Optional.empty(), store.loadSnapshot());
      assertEquals(0, store.snapshotSlot());
      assertEquals(0, store.snapshotZxid());
      assertEquals(List.of(), replayed(store));
      store.appendAndSync(unindexed(1, 1));
      assertTrue(store.isFresh(), "fixed at open");
    }
    try (DurableStore store = open(appended)) {
      assertFalse(store.isFresh());
    }

    Path snapshotted = dir.resolve("snapshotted");
    try (DurableStore store = open(snapshotted)) {
      store.writeSnapshot(snapshot(5, 3, 0));
    }
    try (DurableStore store = open(snapshotted)) {
      assertFalse(store.isFresh(), "a snapshot beside an empty log");
      assertEquals(0, store.lastIndex());
      assertEquals(5, store.snapshotSlot());
    }

    Path installed = dir.resolve("installed");
    try (DurableStore store = open(installed)) {
      store.installSnapshot(snapshot(9, 3, 0));
    }
    try (DurableStore store = open(installed)) {
      assertFalse(store.isFresh());
    }
  }

  @Test
  void snapshotsAreOrderedBySlot() throws IOException {
    try (DurableStore store = open()) {
      assertTrue(store.writeSnapshot(snapshot(100, 10, 1)));
      assertTrue(store.writeSnapshot(snapshot(200, 10, 1)));
      assertFalse(store.writeSnapshot(snapshot(150, 10, 1)));
      assertEquals(200, store.snapshotSlot());
      // The same slot holds the same state: nothing to write.
      assertFalse(store.writeSnapshot(snapshot(200, 30, 1)));
      assertSameSnapshot(snapshot(200, 10, 1), store.loadSnapshot().orElseThrow());
      assertTrue(store.writeSnapshot(snapshot(300, 10, 1)));
    }
    try (DurableStore store = open()) {
      assertEquals(300, store.snapshotSlot());
      assertSameSnapshot(snapshot(300, 10, 1), store.loadSnapshot().orElseThrow());
      assertEquals(
          List.of(300L, 200L), new SnapshotStore(dir.resolve("snapshots"), point -> {}).slots());
    }
  }

  /**
   * A follower's own snapshot (of the slot it had applied) queued behind one fetched from the
   * leader (a later slot): writing it finds a newer snapshot on disk and does nothing, rather than
   * fail the server.
   */
  @Test
  void anOwnSnapshotQueuedBehindANewerInstalledOneIsIgnored() throws IOException {
    try (DurableStore store = open()) {
      assertTrue(store.writeSnapshot(snapshot(100, 10, 1)));
      assertTrue(store.installSnapshot(snapshot(500, 20, 1)));
      assertFalse(store.writeSnapshot(snapshot(300, 10, 1)));
      assertFalse(store.writeSnapshot(snapshot(500, 30, 2))); // the same slot: nothing to add
      assertEquals(500, store.snapshotSlot());
      assertEquals(zxidAt(500), store.snapshotZxid());
      assertSameSnapshot(snapshot(500, 20, 1), store.loadSnapshot().orElseThrow());
    }
    try (DurableStore store = open()) {
      assertSameSnapshot(snapshot(500, 20, 1), store.loadSnapshot().orElseThrow());
      assertEquals(
          List.of(500L, 100L), new SnapshotStore(dir.resolve("snapshots"), point -> {}).slots());
    }
  }

  /**
   * A damaged newest snapshot is set aside when the store falls back to the one before it: it must
   * not block the snapshots that follow (all of them below its slot) nor outlive, as one of the two
   * kept, the valid snapshot that recovery fell back to.
   */
  @Test
  void aDamagedNewestSnapshotIsSetAsideAndLaterSnapshotsAreKept() throws IOException {
    writeHistory();
    Path snapshots = dir.resolve("snapshots");
    Path damaged = snapshots.resolve(SnapshotFile.fileName(200));
    truncate(damaged, Files.size(damaged) / 3);
    try (DurableStore store = open()) {
      assertEquals(100, store.snapshotSlot());
      assertSameSnapshot(snapshot(100, 100, 2), store.loadSnapshot().orElseThrow());
      assertTrue(store.writeSnapshot(snapshot(150, 10, 1))); // below the damaged one's slot
      assertEquals(150, store.snapshotSlot());
      assertTrue(store.writeSnapshot(snapshot(250, 10, 1)));
      assertEquals(250, store.snapshotSlot());
    }
    assertEquals(List.of(250L, 150L), new SnapshotStore(snapshots, point -> {}).slots());
    assertTrue(Files.exists(snapshots.resolve(SnapshotFile.fileName(200) + ".damaged")));
    try (DurableStore store = open()) {
      assertSameSnapshot(snapshot(250, 10, 1), store.loadSnapshot().orElseThrow());
    }
  }

  @Test
  void anInstalledSnapshotIsWrittenOnlyIfNewerAndTheNewestWins() throws IOException {
    try (DurableStore store = open()) {
      store.appendAndSync(unindexed(1, 5));
      assertTrue(store.installSnapshot(snapshot(500, 20, 1))); // far ahead of this server
      assertEquals(500, store.snapshotSlot());
      assertEquals(zxidAt(500), store.snapshotZxid());
      assertSameSnapshot(snapshot(500, 20, 1), store.loadSnapshot().orElseThrow());
      assertFalse(store.installSnapshot(snapshot(400, 20, 1))); // behind: the newest stays
      assertFalse(store.installSnapshot(snapshot(500, 30, 2))); // the same slot: the same state
      assertEquals(500, store.snapshotSlot());
      assertEquals(zxidAt(500), store.snapshotZxid());
      assertSameSnapshot(snapshot(500, 20, 1), store.loadSnapshot().orElseThrow());
      assertTrue(store.writeSnapshot(snapshot(600, 20, 1)));
      assertEquals(entries(1, 5), replayed(store), "installing does not touch the log");
    }
    try (DurableStore store = open()) {
      assertEquals(600, store.snapshotSlot());
      assertEquals(
          List.of(600L, 500L), new SnapshotStore(dir.resolve("snapshots"), point -> {}).slots());
    }
  }

  @Test
  void theDataDirectoryCannotBeOpenedTwice() throws IOException {
    try (DurableStore store = open()) {
      IOException e = assertThrows(IOException.class, this::open);
      assertTrue(e.getMessage().contains("is in use by another Synod process"), e.getMessage());
    }
    open().close();
  }

  @Test
  void faultPointsAreReachedInOrder() throws IOException {
    List<String> reached = new ArrayList<>();
    try (DurableStore store = DurableStore.open(dir, SEGMENT_BYTES, reached::add)) {
      store.appendAndSync(unindexed(1, 10));
      store.writeSnapshot(snapshot(10, 5, 1));
      assertEquals(SnapshotStoreTest.WRITE_STEPS, reached, "writing does not truncate");
      reached.clear();
      store.truncateLogBefore(5);
      assertEquals(List.of(DurableStore.LOG_TRUNCATED), reached);
      reached.clear();
      store.installSnapshot(snapshot(20, 5, 1));
      assertEquals(SnapshotStoreTest.WRITE_STEPS, reached);
    }
  }

  /**
   * The snapshot thread (writing, then truncating what the previous snapshot no longer needs) and
   * the commit thread at once, as in the server.
   */
  @Test
  void snapshotsAndTruncationWhileTheCommitThreadAppends() throws Exception {
    AtomicReference<Throwable> snapshotFailure = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger snapshotsWritten = new AtomicInteger();
    long lastIndex = 0;
    try (DurableStore store = open()) {
      Thread snapshotter =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    long slot = store.lastIndex();
                    long previous = store.snapshotSlot();
                    if (slot > previous) {
                      store.writeSnapshot(snapshot(slot, 20, 1));
                      store.truncateLogBefore(previous + 1);
                      snapshotsWritten.incrementAndGet();
                    }
                  }
                } catch (Throwable t) {
                  snapshotFailure.set(t);
                }
              });
      snapshotter.start();
      try {
        // Until the truncation that three snapshots cause has had its chance (bounded).
        while (snapshotsWritten.get() < 3 && lastIndex < 100_000) {
          store.appendAndSync(unindexed(lastIndex + 1, lastIndex + 10));
          lastIndex += 10;
        }
      } finally {
        stop.set(true);
        snapshotter.join();
      }
      assertNull(snapshotFailure.get());
      assertTrue(store.snapshotSlot() > 0);
    }
    try (DurableStore store = open()) {
      long slot = store.loadSnapshot().orElseThrow().slot();
      List<LogEntry> kept = replayed(store);
      long first = kept.get(0).getIndex();
      assertTrue(first <= slot + 1, "first kept " + first + ", snapshot at " + slot);
      assertEquals(entries(first, lastIndex), kept);
      assertFalse(
          Files.exists(dir.resolve("log").resolve(LogSegment.fileName(1))),
          "old segments were truncated");
    }
  }

  /** Log 1..250 (batches of 10) with snapshots at slots 100 and 200 (each a tree of 100 nodes). */
  private void writeHistory() throws IOException {
    try (DurableStore store = open()) {
      assertTrue(store.isFresh());
      for (long index = 1; index <= 250; index += 10) {
        store.appendAndSync(unindexed(index, index + 9));
        if (index + 9 == 100 || index + 9 == 200) {
          store.writeSnapshot(snapshot(index + 9, 100, 2));
        }
      }
      assertEquals(200, store.snapshotSlot());
      assertEquals(zxidAt(200), store.snapshotZxid());
      assertTrue(store.logBytes() > 0);
    }
  }

  private DurableStore open() throws IOException {
    return open(dir);
  }

  private static DurableStore open(Path dataDir) throws IOException {
    return DurableStore.open(dataDir, SEGMENT_BYTES, FaultInjector.NONE);
  }
}
