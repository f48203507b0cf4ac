package dev.synod.server.storage;

import static dev.synod.server.storage.SnapshotStoreTest.assertSameSnapshot;
import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.replayed;
import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.unindexed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.sim.SimulatedDisk;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The real store over {@link SimulatedDisk}: many lives of random appends (multi-page groups,
 * unsynced commit marks), snapshots and log truncation, each ended by a machine crash at a random
 * fsync (which tears whatever was not yet synced), by the death of the process alone (unsynced data
 * stays in the page cache, for a later crash to tear), by fsyncs that start failing, or by a clean
 * close. After each restart, everything acknowledged is there, the log is contiguous and holds what
 * the fallback snapshot needs, and the store goes on. Any failure replays from its seed.
 */
class DurableStoreSimulatedDiskTest {
  private static final Path ROOT = Path.of("/simulated/data");
  private static final long SEGMENT_BYTES = 16 << 10;
  private static final int SEEDS = 40;
  private static final int LIVES = 12;
  private static final int STEPS_PER_LIFE = 40;

  @Test
  void crashesAtRandomFsyncsNeverLoseWhatWasAcknowledged() throws IOException {
    int crashes = 0;
    for (long seed = 1; seed <= SEEDS; seed++) {
      crashes += runLives(new SimulatedDisk(seed), seed);
    }
    assertTrue(crashes > SEEDS * LIVES / 3, "too few crashes to mean anything: " + crashes);
  }

  /** The same on a disk that tears pages too: each 512-byte sector is kept or lost on its own. */
  @Test
  void crashesThatTearSectorsNeverLoseWhatWasAcknowledged() throws IOException {
    int crashes = 0;
    for (long seed = 1; seed <= SEEDS; seed++) {
      crashes += runLives(new SimulatedDisk(seed, SimulatedDisk.SECTOR_BYTES), seed);
    }
    assertTrue(crashes > SEEDS * LIVES / 3, "too few crashes to mean anything: " + crashes);
  }

  /** A failed fsync stops the store: nothing more is written, and a restart recovers. */
  @Test
  void aFailedFsyncStopsTheLog() throws IOException {
    SimulatedDisk disk = new SimulatedDisk(5);
    DurableStore store = DurableStore.open(disk, ROOT, SEGMENT_BYTES, FaultInjector.NONE);
    store.appendAndSync(unindexed(1, 30));
    disk.failFsyncs();
    assertThrows(IOException.class, () -> store.appendAndSync(unindexed(31, 40)));
    IOException e = assertThrows(IOException.class, () -> store.appendAndSync(unindexed(41, 41)));
    assertTrue(e.getMessage().contains("failed earlier; restart"), e.getMessage());
    disk.crash();
    try (DurableStore again = DurableStore.open(disk, ROOT, SEGMENT_BYTES, FaultInjector.NONE)) {
      long last = again.lastIndex();
      assertTrue(last >= 30 && last <= 40, "last " + last);
      assertEquals(entries(1, last), replayed(again));
    }
  }

  /**
   * A bad sector in the newest snapshot: the store falls back to the one before it (what the
   * whole-server simulator relies on when it damages a snapshot), or, if the sector held nothing
   * the snapshot needs, reads the newest back intact; never a wrong snapshot.
   */
  @Test
  void aBadSectorInTheNewestSnapshotFallsBackToTheOlderOne() throws IOException {
    int fellBack = 0;
    for (long seed = 1; seed <= 30; seed++) {
      SimulatedDisk disk = new SimulatedDisk(seed);
      try (DurableStore store = DurableStore.open(disk, ROOT, SEGMENT_BYTES, FaultInjector.NONE)) {
        assertTrue(store.writeSnapshot(snapshot(10, 40, 3)));
        assertTrue(store.writeSnapshot(snapshot(20, 40, 3)));
      }
      Path newest = ROOT.resolve(DataDir.SNAPSHOT_DIR).resolve(SnapshotFile.fileName(20));
      assertTrue(disk.damage(newest), "the snapshot holds data");
      disk.crash();
      try (DurableStore store = DurableStore.open(disk, ROOT, SEGMENT_BYTES, FaultInjector.NONE)) {
        Snapshot loaded = store.loadSnapshot().orElseThrow();
        if (loaded.slot() == 10) {
          fellBack++;
          assertSameSnapshot(snapshot(10, 40, 3), loaded);
        } else {
          assertSameSnapshot(snapshot(20, 40, 3), loaded);
        }
      }
    }
    // A sector of data hit at random is nearly always one the snapshot needs.
    assertTrue(fellBack >= 25, "fell back only " + fellBack + " times of 30");
  }

  /** Returns how many lives ended in a crash. */
  private static int runLives(SimulatedDisk disk, long seed) throws IOException {
    Random random = new Random(seed);
    Acknowledged acked = new Acknowledged();
    int crashed = 0;
    for (int life = 0; life < LIVES; life++) {
      String where = "seed " + seed + ", life " + life;
      DurableStore store = DurableStore.open(disk, ROOT, SEGMENT_BYTES, FaultInjector.NONE);
      checkRecovered(store, acked, where);
      int ending = random.nextInt(10);
      // Often at one of the first fsyncs: right after a restart is when what the previous
      // process left unsynced is most at risk.
      int fsyncs = 1 + random.nextInt(random.nextBoolean() ? 3 : 3 * STEPS_PER_LIFE);
      if (ending < 5) {
        disk.crashAtFsync(fsyncs);
      } else if (ending < 7) {
        disk.killAtFsync(fsyncs);
      }
      try {
        for (int step = 0; step < STEPS_PER_LIFE; step++) {
          step(store, random, acked);
        }
        if (ending == 7) {
          disk.failFsyncs();
          step(store, random, acked);
          store.appendAndSync(unindexed(store.lastIndex() + 1, store.lastIndex() + 1));
        }
        disk.crashAtFsync(0);
        store.close();
      } catch (IOException e) {
        // The process dies here (a crash, or a failed fsync that stops it), without closing.
        if (disk.crashes() == crashed) {
          disk.crash();
        }
      }
      crashed = disk.crashes();
    }
    return crashed;
  }

  /** One random operation, as the server does them; records what it acknowledged. */
  private static void step(DurableStore store, Random random, Acknowledged acked)
      throws IOException {
    long next = store.lastIndex() + 1;
    switch (random.nextInt(8)) {
      case 0 -> store.appendWithoutSync(unindexed(next, next + random.nextInt(3)));
      case 1 -> {
        long slot = store.lastIndex();
        long olderKept = store.snapshotSlot();
        if (slot > 0 && store.writeSnapshot(snapshot(slot, 5, 1))) {
          acked.snapshotSlot = slot;
          // Keep what the older of the two kept snapshots needs, as the server does.
          store.truncateLogBefore(olderKept + 1);
        }
      }
      default -> {
        // Groups from one record to several pages.
        long last = next + (random.nextBoolean() ? random.nextInt(4) : random.nextInt(120));
        store.appendAndSync(unindexed(next, last));
        acked.lastIndex = last;
      }
    }
  }

  private static void checkRecovered(DurableStore store, Acknowledged acked, String where)
      throws IOException {
    long last = store.lastIndex();
    assertTrue(last >= acked.lastIndex, where + ": last " + last + " < " + acked.lastIndex);
    List<LogEntry> log = replayed(store);
    if (last > 0) {
      long first = log.isEmpty() ? last + 1 : log.get(0).getIndex();
      assertEquals(entries(first, last), log, where);
      assertTrue(
          first <= store.snapshotSlot() + 1,
          where + ": log starts at " + first + ", snapshot at " + store.snapshotSlot());
    }
    assertTrue(store.snapshotSlot() >= acked.snapshotSlot, where);
    if (store.snapshotSlot() > 0) {
      assertSameSnapshot(snapshot(store.snapshotSlot(), 5, 1), store.loadSnapshot().orElseThrow());
    }
    // What survived beyond the acknowledged is the new baseline: it may be acknowledged later.
    acked.lastIndex = last;
  }

  private static final class Acknowledged {
    long lastIndex;
    long snapshotSlot;
  }
}
