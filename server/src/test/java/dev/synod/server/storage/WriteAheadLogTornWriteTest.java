package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.entry;
import static dev.synod.server.storage.StorageTestData.replayed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash during the final group commit (everything written before one fsync) may leave any subset
 * of that write's pages on disk, in any order: the kernel writes dirty pages back when it likes.
 * Nothing in that group was acknowledged, so recovery must cut it off wherever it is torn, even
 * when later pages of it survived; but damage in a group that was synced (one that a later group
 * follows) is corruption and must stop the server.
 *
 * <p>Files are torn here by rewriting the bytes a real disk would hold: a lost page keeps what the
 * disk had before the final write (the synced bytes, zeros past the old end of file).
 */
class WriteAheadLogTornWriteTest {
  private static final int PAGE_BYTES = 4096;
  /** Far more than the records written here: the final group lands in preallocated zeros. */
  private static final long ONE_SEGMENT = 256 << 10;

  /** Synced groups before the final one: batches of 1 to 5 records, 1..SYNCED_LAST. */
  private static final long SYNCED_LAST = 40;

  /** The final, never-synced group: SYNCED_LAST+1..FINAL_LAST, several pages long. */
  private static final long FINAL_LAST = 260;

  @TempDir Path tmp;

  private int cases;

  /**
   * Every subset of the final group's pages lost (the page holding its start included): the log
   * recovers to the synced records plus the untouched prefix of the final group, and goes on.
   */
  @Test
  void anySubsetOfTheFinalGroupsPagesLostRecoversToTheSyncedState() throws IOException {
    Written w = writeGroups(tmp.resolve("template"), ONE_SEGMENT);
    List<Long> pages = w.finalGroupPages();
    assertTrue(pages.size() >= 4, "the final group should span several pages: " + pages);

    int lossSets = 1 << pages.size();
    for (int lost = 1; lost < lossSets; lost++) {
      byte[] torn = w.finalBytes.clone();
      for (int p = 0; p < pages.size(); p++) {
        if ((lost & (1 << p)) != 0) {
          w.losePage(torn, pages.get(p), null);
        }
      }
      assertRecovers(w, torn, "lost pages " + Integer.toBinaryString(lost));
    }
  }

  /** The same with lost pages full of garbage rather than zeros, and the file cut short. */
  @Test
  void lostPagesHoldingGarbageOrAShortFileAreATornWriteToo() throws IOException {
    Written w = writeGroups(tmp.resolve("template"), ONE_SEGMENT);
    List<Long> pages = w.finalGroupPages();
    Random random = new Random(7);
    for (int round = 0; round < 40; round++) {
      byte[] torn = w.finalBytes.clone();
      // Always lose the first page of the final group, so that its later pages follow damage.
      w.losePage(torn, pages.get(0), random);
      for (int p = 1; p < pages.size(); p++) {
        if (random.nextInt(3) == 0) {
          w.losePage(torn, pages.get(p), random);
        }
      }
      if (random.nextBoolean()) {
        // The size update reached the disk only up to some page boundary of the write.
        long cut = pages.get(1 + random.nextInt(pages.size() - 1));
        torn = Arrays.copyOf(torn, (int) cut);
      }
      assertRecovers(w, torn, "round " + round);
    }
  }

  /**
   * The final group started a new segment, and the page holding the segment's header is the one
   * lost: the segment holds nothing that was acknowledged and is removed.
   */
  @Test
  void aLostHeaderPageOfTheFinalGroupsNewSegmentIsATornWrite() throws IOException {
    long segmentBytesMax = 64 << 10;
    Path dir = Files.createDirectories(tmp.resolve("log"));
    long last = 0;
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      // Batches while far from the limit, then single records, so that the first segment ends
      // exactly where a batch ends and the final group is the first write to the next one.
      while (LogSegment.list(dir).isEmpty() || log.sizeBytes() < segmentBytesMax) {
        boolean far =
            LogSegment.list(dir).isEmpty() || log.sizeBytes() < segmentBytesMax - 2 * PAGE_BYTES;
        long batch = far ? 20 : 1;
        log.append(entries(last + 1, last + batch));
        log.sync();
        last += batch;
      }
      assertEquals(1, LogSegment.list(dir).size());
      // Full: the final group starts a new segment, and spans several pages of it.
      log.append(entries(last + 1, last + 220));
      log.sync();
    }
    Path newSegment = lastSegment(dir);
    assertEquals(LogSegment.fileName(last + 1), newSegment.getFileName().toString());
    byte[] bytes = Files.readAllBytes(newSegment);
    assertTrue(bytes.length > 3 * PAGE_BYTES, "spans several pages: " + bytes.length);
    Arrays.fill(bytes, 0, PAGE_BYTES, (byte) 0);
    Files.write(newSegment, bytes);

    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      assertEquals(last, log.lastIndex());
      assertFalse(Files.exists(newSegment));
      log.append(entries(last + 1, last + 3));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      assertEquals(entries(1, last + 3), replayed(log, 0));
    }
  }

  /** Damage in a synced group, the final group intact or torn: the server must not start. */
  @Test
  void damageInAnEarlierSyncedGroupIsCorruptionWhateverTheFinalGroupLooksLike() throws IOException {
    Written w = writeGroups(tmp.resolve("template"), ONE_SEGMENT);
    long damaged = w.recordStart(SYNCED_LAST - 7) + 10;
    for (boolean finalTorn : List.of(false, true)) {
      byte[] bytes = w.finalBytes.clone();
      bytes[(int) damaged] ^= (byte) 0xFF;
      if (finalTorn) {
        w.losePage(bytes, w.finalGroupPages().get(0), null);
      }
      Path dir = w.install(bytes, tmp.resolve("damaged-" + finalTorn));
      CorruptLogException e =
          assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, ONE_SEGMENT));
      assertTrue(e.getMessage().contains("refuses to start"), e.getMessage());
    }
  }

  /**
   * The last record of the synced group before the final one is damaged, and the final group
   * follows intact: that record was synced before the final write began, so no crash explains it.
   */
  @Test
  void aDamagedLastRecordOfTheSyncedGroupBeforeTheFinalOneIsCorruption() throws IOException {
    Written w = writeGroups(tmp.resolve("template"), ONE_SEGMENT);
    byte[] bytes = w.finalBytes.clone();
    bytes[(int) w.recordStart(SYNCED_LAST) + 9] ^= (byte) 0xFF;
    Path dir = w.install(bytes, tmp.resolve("damaged"));
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, ONE_SEGMENT));
    assertTrue(
        e.getMessage().contains("byte offset " + w.recordStart(SYNCED_LAST)), e.getMessage());
  }

  /**
   * The log of one segment: synced groups for 1..{@link #SYNCED_LAST}, then the final group
   * (appended and synced too, so that its bytes are in the file for the tests to tear).
   */
  private static Written writeGroups(Path dir, long segmentBytesMax) throws IOException {
    long syncedBytes;
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      long index = 1;
      int batch = 1;
      while (index <= SYNCED_LAST) {
        long end = Math.min(SYNCED_LAST, index + batch - 1);
        log.append(entries(index, end));
        log.sync();
        index = end + 1;
        batch = batch % 5 + 1;
      }
      syncedBytes = log.sizeBytes();
      // Half of the final group without a sync of its own (as commit marks are appended).
      log.append(entries(SYNCED_LAST + 1, SYNCED_LAST + 10));
      log.append(entries(SYNCED_LAST + 11, FINAL_LAST));
      log.sync();
    }
    return new Written(dir, syncedBytes, Files.readAllBytes(lastSegment(dir)));
  }

  /** A written log: its one segment's bytes and where the synced part of it ends. */
  private record Written(Path dir, long syncedBytes, byte[] finalBytes) {
    /** File offsets of the pages the final group touches, the first one partly synced. */
    List<Long> finalGroupPages() {
      List<Long> pages = new ArrayList<>();
      for (long page = syncedBytes / PAGE_BYTES * PAGE_BYTES;
          page < recordStart(FINAL_LAST + 1);
          page += PAGE_BYTES) {
        pages.add(page);
      }
      return pages;
    }

    /**
     * Makes {@code bytes} look as if the write of the page at {@code page} never reached the disk:
     * its synced part stays, the rest is zero (the preallocated file's zeros), or garbage if {@code
     * random} is given.
     */
    void losePage(byte[] bytes, long page, Random random) {
      int from = (int) Math.max(page, syncedBytes);
      int to = (int) Math.min(page + PAGE_BYTES, bytes.length);
      for (int i = from; i < to; i++) {
        bytes[i] = random == null ? 0 : (byte) random.nextInt(256);
      }
    }

    /** Byte offset of the record with {@code index} (the log starts at 1 in one segment). */
    long recordStart(long index) {
      long offset = LogSegment.HEADER_BYTES;
      for (long i = 1; i < index; i++) {
        offset += recordBytes(i);
      }
      return offset;
    }

    /** The last index whose record, and every one before it, is unchanged in {@code torn}. */
    long lastIntact(byte[] torn) {
      long offset = LogSegment.HEADER_BYTES;
      for (long index = 1; index <= FINAL_LAST; index++) {
        long end = offset + recordBytes(index);
        if (end > torn.length
            || !Arrays.equals(torn, (int) offset, (int) end, finalBytes, (int) offset, (int) end)) {
          return index - 1;
        }
        offset = end;
      }
      return FINAL_LAST;
    }

    Path install(byte[] bytes, Path to) throws IOException {
      Files.createDirectories(to);
      Files.write(to.resolve(LogSegment.fileName(1)), bytes);
      return to;
    }

    private static long recordBytes(long index) {
      return LogRecord.HEADER_BYTES + entry(index).getSerializedSize();
    }
  }

  /**
   * Opens the torn log: it must hold the synced records and the untouched prefix of the final
   * group, exactly, then take appends that continue from there, across a reopen.
   */
  private void assertRecovers(Written w, byte[] torn, String what) throws IOException {
    long expectedLast = w.lastIntact(torn);
    assertTrue(expectedLast >= SYNCED_LAST, what + ": the test damaged a synced record");
    Path dir = w.install(torn, tmp.resolve("case-" + cases++));
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(expectedLast, log.lastIndex(), what);
      List<LogEntry> recovered = replayed(log, 0);
      assertEquals(entries(1, expectedLast), recovered, what);
      log.append(entries(expectedLast + 1, expectedLast + 2));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(entries(1, expectedLast + 2), replayed(log, 0), what);
    }
    byte[] synced = Arrays.copyOf(w.finalBytes, (int) w.syncedBytes);
    byte[] now = Files.readAllBytes(dir.resolve(LogSegment.fileName(1)));
    assertArrayEquals(synced, Arrays.copyOf(now, synced.length), what + ": synced bytes changed");
  }

  private static Path lastSegment(Path dir) throws IOException {
    List<Path> files = LogSegment.list(dir);
    return files.get(files.size() - 1);
  }
}
