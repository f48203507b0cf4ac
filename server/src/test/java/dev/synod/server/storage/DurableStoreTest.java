package dev.synod.server.storage;

import static dev.synod.server.storage.SnapshotStoreTest.assertSameSnapshot;
import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.truncate;
import static dev.synod.server.storage.StorageTestData.txns;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.Txn;
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

/** The recovery contract: state = newest valid snapshot + the log after it. */
class DurableStoreTest {
  private static final long SEGMENT_BYTES = 512;

  @TempDir Path dir;

  @Test
  void recoversFromTheNewestSnapshotPlusTheLogAfterIt() throws IOException {
    writeHistory();
    try (DurableStore store = open()) {
      assertEquals(200, store.snapshotZxid());
      assertEquals(250, store.lastZxid());
      assertSameSnapshot(snapshot(200, 100, 2), store.loadSnapshot().orElseThrow());
      assertEquals(txns(201, 250), replayed(store, store.snapshotZxid()));
      // The log keeps what falling back to the snapshot at 100 would need, and no more than a
      // segment of what it would not.
      assertEquals(txns(101, 250), replayed(store, 100));
      assertThrows(CorruptLogException.class, () -> replayed(store, 0));
    }
  }

  @Test
  void aCorruptNewestSnapshotFallsBackToThePreviousAndItsLog() throws IOException {
    writeHistory();
    Path newest = dir.resolve("snapshots").resolve(SnapshotFile.fileName(200));
    truncate(newest, Files.size(newest) / 3);
    try (DurableStore store = open()) {
      assertEquals(100, store.snapshotZxid());
      assertEquals(250, store.lastZxid());
      assertSameSnapshot(snapshot(100, 100, 2), store.loadSnapshot().orElseThrow());
      assertEquals(txns(101, 250), replayed(store, store.snapshotZxid()));
    }
  }

  @Test
  void aFreshLogBesideASnapshotContinuesAfterIt() throws IOException {
    try (DurableStore store = open()) {
      assertEquals(Optional.empty(), store.loadSnapshot());
      assertEquals(0, store.lastZxid());
      store.writeSnapshot(snapshot(50, 10, 1));
      assertEquals(50, store.lastZxid());
      assertThrows(IllegalStateException.class, () -> store.appendAndSync(txns(52, 53)));
      store.appendAndSync(txns(51, 60));
    }
    try (DurableStore store = open()) {
      assertEquals(50, store.loadSnapshot().orElseThrow().zxid());
      assertEquals(txns(51, 60), replayed(store, 50));
      assertEquals(60, store.lastZxid());
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
  void writeSnapshotReachesItsFaultPointsInOrder() throws IOException {
    List<String> reached = new ArrayList<>();
    try (DurableStore store = DurableStore.open(dir, SEGMENT_BYTES, reached::add)) {
      store.appendAndSync(txns(1, 10));
      store.writeSnapshot(snapshot(10, 5, 1));
    }
    List<String> expected = new ArrayList<>(SnapshotStoreTest.WRITE_STEPS);
    expected.add(DurableStore.LOG_TRUNCATED);
    assertEquals(expected, reached);
  }

  /** The snapshot thread and the commit thread at once, as in the server. */
  @Test
  void snapshotsWhileTheCommitThreadAppends() throws Exception {
    AtomicReference<Throwable> snapshotFailure = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger snapshotsWritten = new AtomicInteger();
    long lastZxid = 0;
    try (DurableStore store = open()) {
      Thread snapshotter =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    long zxid = store.lastZxid();
                    if (zxid > store.snapshotZxid()) {
                      store.writeSnapshot(snapshot(zxid, 20, 1));
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
        while (snapshotsWritten.get() < 3 && lastZxid < 100_000) {
          store.appendAndSync(txns(lastZxid + 1, lastZxid + 10));
          lastZxid += 10;
        }
      } finally {
        stop.set(true);
        snapshotter.join();
      }
      assertNull(snapshotFailure.get());
      assertTrue(store.snapshotZxid() > 0);
    }
    try (DurableStore store = open()) {
      long snapshotZxid = store.loadSnapshot().orElseThrow().zxid();
      assertEquals(txns(snapshotZxid + 1, lastZxid), replayed(store, snapshotZxid));
      assertFalse(
          Files.exists(dir.resolve("log").resolve(LogSegment.fileName(1))),
          "old segments were truncated");
    }
  }

  /** Log 1..250 with snapshots at 100 and 200 (each a tree of 100 nodes). */
  private void writeHistory() throws IOException {
    try (DurableStore store = open()) {
      for (long zxid = 1; zxid <= 250; zxid += 10) {
        store.appendAndSync(txns(zxid, zxid + 9));
        if (zxid + 9 == 100 || zxid + 9 == 200) {
          store.writeSnapshot(snapshot(zxid + 9, 100, 2));
        }
      }
      assertEquals(200, store.snapshotZxid());
      assertTrue(store.logBytes() > 0);
    }
  }

  private DurableStore open() throws IOException {
    return DurableStore.open(dir, SEGMENT_BYTES, FaultInjector.NONE);
  }

  private static List<Txn> replayed(DurableStore store, long afterZxid) throws IOException {
    List<Txn> out = new ArrayList<>();
    store.replayLog(afterZxid, out::add);
    return out;
  }
}
