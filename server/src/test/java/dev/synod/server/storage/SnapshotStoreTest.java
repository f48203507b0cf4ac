package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.flipByte;
import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.truncate;
import static dev.synod.server.storage.StorageTestData.zxidAt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.NodeRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

class SnapshotStoreTest {
  static final List<String> WRITE_STEPS =
      List.of(
          SnapshotStore.TMP_WRITTEN,
          SnapshotStore.TMP_SYNCED,
          SnapshotStore.RENAMED,
          SnapshotStore.DIR_SYNCED,
          SnapshotStore.PRUNED);

  private static final int DAMAGE_SAMPLES = 25;

  @TempDir Path dir;

  @Test
  void roundTripOfTwentyThousandNodes() throws IOException {
    Snapshot written = snapshot(500, 20_000, 3);
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    store.write(written);

    Snapshot read = new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow();
    assertSameSnapshot(written, read);
    assertEquals(zxidAt(500), read.zxid());
    assertEquals(500, read.slot());
    assertEquals(List.of(500L), store.slots());
    assertTrue(Files.exists(dir.resolve("snapshot-00000000000000000500.db")), "named by slot");
  }

  @Test
  void roundTripOfAnEmptyTreeAndOfAMapInAnotherOrder() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    Snapshot empty = new Snapshot(0, 1, new TreeMap<>(), List.of());
    store.write(empty);
    assertSameSnapshot(empty, store.loadLatest().orElseThrow());

    SortedMap<String, NodeRecord> reversed = new TreeMap<>(Comparator.reverseOrder());
    reversed.putAll(snapshot(2, 100, 0).nodes());
    Snapshot custom = new Snapshot(zxidAt(2), 2, reversed, snapshot(2, 1, 2).sessions());
    store.write(custom);
    assertSameSnapshot(custom, store.loadLatest().orElseThrow());
  }

  @Test
  void theDecidedTimeRoundTripsAndReadsAsZeroFromAFileThatPredatesIt() throws IOException {
    Snapshot base = snapshot(7, 10, 1);
    Snapshot timed = new Snapshot(base.zxid(), base.slot(), 1_700_000_123_456L, base.nodes(),
        base.sessions());
    new SnapshotStore(dir, FaultInjector.NONE).write(timed);
    assertSameSnapshot(timed, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());

    Path file = dir.resolve(SnapshotFile.fileName(7));
    DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
    try {
      BTreeMap<String, Long> meta = db.treeMap("meta", Serializer.STRING, Serializer.LONG).open();
      meta.remove("timeMs");
      meta.remove("metaCrc32c"); // nor did files of that time sum their meta
    } finally {
      db.close();
    }
    assertEquals(0, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow().timeMs());
  }

  /**
   * The meta's values are checksummed too: a bad sector there once handed a load a garbage zxid
   * that every entry's checksum let through, and the member applied the next transaction at zxid
   * 0xdfe45285852019 (whole-server simulator seed 20003158, five members). Now the load refuses
   * the file and falls back to the one before.
   */
  @Test
  void aSnapshotWhoseMetaWasChangedIsRefusedAndTheOneBeforeIsLoaded() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    Snapshot previous = snapshot(5, 10, 1);
    store.write(previous);
    store.write(snapshot(7, 10, 1));
    for (String key : List.of("zxid", "timeMs", "nodeCount", "sessionCount", "crc32c")) {
      Path file = dir.resolve(SnapshotFile.fileName(7));
      byte[] pristine = Files.readAllBytes(file);
      DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
      try {
        BTreeMap<String, Long> meta = db.treeMap("meta", Serializer.STRING, Serializer.LONG).open();
        meta.put(key, meta.get(key) ^ 0x40_0000L);
      } finally {
        db.close();
      }
      IOException e = assertThrows(IOException.class, () -> SnapshotFile.read(Disk.REAL, file, 7), key);
      assertTrue(e.getMessage().contains("meta") && e.getMessage().contains("checksum"), key + ": " + e.getMessage());
      Files.write(file, pristine);
    }
    assertEquals(7, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow().slot());
    Path file = dir.resolve(SnapshotFile.fileName(7));
    DB db = DBMaker.fileDB(file.toFile()).fileChannelEnable().make();
    try {
      db.treeMap("meta", Serializer.STRING, Serializer.LONG).open().put("zxid", 0xdfe45285852019L);
    } finally {
      db.close();
    }
    assertSameSnapshot(previous, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
  }

  @Test
  void noSnapshotsLoadsEmpty() throws IOException {
    assertEquals(Optional.empty(), new SnapshotStore(dir, FaultInjector.NONE).loadLatest());
  }

  @Test
  void keepsTheNewestTwo() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    for (long slot : List.of(100L, 200L, 300L, 400L)) {
      store.write(snapshot(slot, 10, 1));
    }
    assertEquals(List.of(400L, 300L), store.slots());
  }

  /**
   * A snapshot that is not newer than the newest on disk (one made here, which finished after a
   * newer one came from the leader) adds nothing: writing it does nothing and says so.
   */
  @Test
  void aSnapshotNotNewerThanTheNewestIsNotWritten() throws IOException {
    List<String> reached = new ArrayList<>();
    SnapshotStore store = new SnapshotStore(dir, reached::add);
    assertTrue(store.write(snapshot(300, 10, 1)));
    assertTrue(store.write(snapshot(400, 10, 1)));
    reached.clear();
    for (long slot : List.of(350L, 100L, 400L)) {
      assertFalse(store.write(snapshot(slot, 20, 2)), "slot " + slot);
    }
    assertEquals(List.of(), reached, "not even a temp file");
    assertEquals(List.of(400L, 300L), store.slots());
    assertSameSnapshot(snapshot(400, 10, 1), store.loadLatest().orElseThrow());
    assertTrue(store.write(snapshot(900, 10, 1)));
    assertEquals(List.of(900L, 400L), store.slots());
    assertSameSnapshot(snapshot(900, 10, 1), store.loadLatest().orElseThrow());
  }

  @Test
  void withSlotChangesOnlyTheSlot() {
    Snapshot s = snapshot(7, 10, 1);
    Snapshot moved = s.withSlot(70);
    assertEquals(70, moved.slot());
    assertEquals(s.zxid(), moved.zxid());
    assertEquals(s.nodes(), moved.nodes());
    assertEquals(s.sessions(), moved.sessions());
    assertThrows(IllegalArgumentException.class, () -> s.withSlot(-1));
  }

  @Test
  void truncatedNewestFallsBackToThePrevious() throws IOException {
    Snapshot previous = writeTwo();
    Path newest = dir.resolve(SnapshotFile.fileName(200));
    truncate(newest, Files.size(newest) / 2);
    assertSameSnapshot(
        previous, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
  }

  /**
   * The damaged newest snapshot is renamed aside when loading falls back: the next snapshots (below
   * its slot, as the state now is) are written, and the valid one fallen back to is pruned only
   * once two newer valid ones exist, never in favour of the damaged one.
   */
  @Test
  void aDamagedNewestIsSetAsideWhenLoadingFallsBack() throws IOException {
    Snapshot previous = writeTwo();
    Path newest = dir.resolve(SnapshotFile.fileName(200));
    truncate(newest, Files.size(newest) / 2);
    byte[] damaged = Files.readAllBytes(newest);

    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    assertSameSnapshot(previous, store.loadLatest().orElseThrow());
    assertEquals(List.of(100L), store.slots());
    Path aside = dir.resolve(SnapshotFile.fileName(200) + SnapshotFile.DAMAGED_SUFFIX);
    assertArrayEquals(damaged, Files.readAllBytes(aside), "kept, unchanged, for the operator");

    assertTrue(store.write(snapshot(150, 10, 1)));
    assertEquals(List.of(150L, 100L), store.slots());
    assertSameSnapshot(snapshot(150, 10, 1), store.loadLatest().orElseThrow());
    assertTrue(Files.exists(aside));
  }

  /** When no snapshot is valid, loading fails and leaves every file where it was. */
  @Test
  void noSnapshotIsSetAsideWhenNoneIsValid() throws IOException {
    writeTwo();
    for (long slot : List.of(100L, 200L)) {
      truncate(dir.resolve(SnapshotFile.fileName(slot)), 100);
    }
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    assertThrows(CorruptSnapshotException.class, store::loadLatest);
    assertEquals(List.of(200L, 100L), store.slots());
  }

  @Test
  void damagedNodeDataInNewestFallsBackToThePrevious() throws IOException {
    Snapshot previous = writeTwo();
    Path newest = dir.resolve(SnapshotFile.fileName(200));
    flipByte(newest, indexOf(newest, "data 77 @" + zxidAt(200)));
    assertSameSnapshot(
        previous, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
  }

  /**
   * Bytes flipped anywhere in the newest file: loading returns either that snapshot intact (the
   * byte was unused) or the previous one, never wrong data, and never leaks an open file.
   */
  @Test
  void damageAnywhereNeverYieldsWrongDataOrLeaksFiles() throws IOException {
    Snapshot previous = writeTwo();
    Snapshot newestWritten = snapshot(200, 300, 2);
    Path newest = dir.resolve(SnapshotFile.fileName(200));
    byte[] pristine = Files.readAllBytes(newest);
    // MapDB leaves most of its file zero (sparse pages); damage the bytes that hold something.
    int[] used = IntStream.range(0, pristine.length).filter(i -> pristine[i] != 0).toArray();
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    long openFilesBefore = openFileCount();
    int fellBack = 0;
    for (int i = 0; i < used.length; i += Math.max(1, used.length / DAMAGE_SAMPLES)) {
      Files.write(newest, pristine);
      flipByte(newest, used[i]);
      Snapshot loaded = store.loadLatest().orElseThrow();
      if (loaded.slot() == 200) {
        assertSameSnapshot(newestWritten, loaded);
      } else {
        assertSameSnapshot(previous, loaded);
        fellBack++;
      }
    }
    assertTrue(fellBack > 0, "no damage was detected at all");
    // Other threads open and close files too; a leak here would add one per load.
    assertTrue(
        openFileCount() <= openFilesBefore + 10,
        "open file descriptors went from " + openFilesBefore + " to " + openFileCount());
  }

  /**
   * Files that MapDB reads without complaint but that are not what was written: our own meta (slot,
   * counts, CRC32C) must catch them.
   */
  @Test
  void contentThatDoesNotMatchItsMetaIsRejected() throws IOException {
    Snapshot previous = writeTwo();
    Path newest = dir.resolve(SnapshotFile.fileName(200));
    byte[] pristine = Files.readAllBytes(newest);
    List<Consumer<BTreeMap<Long, byte[]>>> edits =
        List.of(
            chunks -> { // one byte of the first chunk's last record changed: it still parses
              byte[] first = chunks.get(0L).clone();
              first[first.length - 1] ^= 1;
              chunks.put(0L, first);
            },
            chunks -> chunks.remove(chunks.lastKey()), // fewer nodes than the count
            chunks -> chunks.put(chunks.lastKey() + 1, chunks.get(0L)), // more nodes
            chunks -> chunks.put(chunks.lastKey() + 2, chunks.get(0L))); // a gap in the numbers
    for (Consumer<BTreeMap<Long, byte[]>> edit : edits) {
      Files.write(newest, pristine);
      DB db = DBMaker.fileDB(newest.toFile()).fileChannelEnable().make();
      try {
        edit.accept(db.treeMap("nodeChunks", Serializer.LONG, Serializer.BYTE_ARRAY).open());
      } finally {
        db.close();
      }
      assertSameSnapshot(
          previous, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
    }

    // A file whose name does not match the slot it holds.
    Files.write(newest, pristine);
    Files.copy(dir.resolve(SnapshotFile.fileName(100)), dir.resolve(SnapshotFile.fileName(300)));
    assertEquals(200, new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow().slot());
  }

  @Test
  void allSnapshotsCorruptIsAnError() throws IOException {
    writeTwo();
    for (long slot : List.of(100L, 200L)) {
      truncate(dir.resolve(SnapshotFile.fileName(slot)), 100);
    }
    CorruptSnapshotException e =
        assertThrows(
            CorruptSnapshotException.class,
            () -> new SnapshotStore(dir, FaultInjector.NONE).loadLatest());
    assertTrue(
        e.getMessage().contains("none of the 2 snapshots in " + dir.toAbsolutePath()),
        e.getMessage());
    assertTrue(e.getMessage().contains("refuses to start"), e.getMessage());
  }

  @Test
  void leftoverTempFileIsRemovedAndIgnored() throws IOException {
    Snapshot newest = snapshot(200, 50, 1);
    new SnapshotStore(dir, FaultInjector.NONE).write(newest);
    Path leftover = dir.resolve(SnapshotFile.tmpFileName(300));
    Files.write(leftover, "half a snapshot".getBytes(StandardCharsets.UTF_8));

    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    assertFalse(Files.exists(leftover));
    assertEquals(List.of(200L), store.slots());
    assertSameSnapshot(newest, store.loadLatest().orElseThrow());
  }

  @Test
  void faultPointsAreReachedInOrder() throws IOException {
    List<String> reached = new ArrayList<>();
    SnapshotStore store = new SnapshotStore(dir, reached::add);
    store.write(snapshot(100, 10, 1));
    assertEquals(WRITE_STEPS, reached);
  }

  /** A crash (simulated by an exception) at each step leaves the old or the new snapshot. */
  @Test
  void crashAtAnyStepLeavesTheOldOrTheNewSnapshot() throws IOException {
    for (String crashPoint : WRITE_STEPS) {
      Path crashDir = dir.resolve(crashPoint);
      Snapshot old = snapshot(100, 20, 1);
      Snapshot next = snapshot(200, 30, 2);
      new SnapshotStore(crashDir, FaultInjector.NONE).write(old);
      SnapshotStore crashing =
          new SnapshotStore(
              crashDir,
              point -> {
                if (point.equals(crashPoint)) {
                  throw new SimulatedCrash();
                }
              });
      assertThrows(SimulatedCrash.class, () -> crashing.write(next));

      Snapshot recovered =
          new SnapshotStore(crashDir, FaultInjector.NONE).loadLatest().orElseThrow();
      boolean renamed =
          WRITE_STEPS.indexOf(crashPoint) >= WRITE_STEPS.indexOf(SnapshotStore.RENAMED);
      assertSameSnapshot(renamed ? next : old, recovered);
      try (Stream<Path> files = Files.list(crashDir)) {
        assertTrue(files.noneMatch(f -> f.toString().endsWith(".tmp")), crashPoint);
      }
    }
  }

  static final class SimulatedCrash extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  static void assertSameSnapshot(Snapshot expected, Snapshot actual) {
    assertEquals(expected.slot(), actual.slot());
    assertEquals(expected.zxid(), actual.zxid());
    assertEquals(expected.timeMs(), actual.timeMs());
    assertEquals(expected.nodes(), actual.nodes());
    assertEquals(expected.sessions(), actual.sessions());
  }

  /** Writes snapshots at slots 100 and 200 and returns the one at 100. */
  private Snapshot writeTwo() throws IOException {
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    Snapshot previous = snapshot(100, 300, 2);
    store.write(previous);
    store.write(snapshot(200, 300, 2));
    return previous;
  }

  private static long indexOf(Path file, String text) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    outer:
    for (int i = 0; i + needle.length <= bytes.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (bytes[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError(text + " not found in " + file);
  }

  /** Open file descriptors of this JVM (Linux), or -1 where that is not visible. */
  private static long openFileCount() throws IOException {
    Path fds = Path.of("/proc/self/fd");
    if (!Files.isDirectory(fds)) {
      return -1;
    }
    try (Stream<Path> entries = Files.list(fds)) {
      return entries.count();
    }
  }
}
