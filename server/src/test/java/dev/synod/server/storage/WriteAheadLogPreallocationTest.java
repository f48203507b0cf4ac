package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.entry;
import static dev.synod.server.storage.StorageTestData.replayed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.sim.SimulatedDisk;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments are preallocated (issue 10: an fdatasync that does not have to change the file's size
 * is several times cheaper), so a segment file is longer than its records: the zeros after the
 * last record are the end of the log, never damage, while a torn write inside them is still cut
 * off and damage to synced records is still corruption.
 */
class WriteAheadLogPreallocationTest {
  private static final long SEGMENT_BYTES = 64 << 10;

  @TempDir Path tmp;

  private static long recordEnd(long lastIndex) {
    long offset = LogSegment.HEADER_BYTES;
    for (long i = 1; i <= lastIndex; i++) {
      offset += LogRecord.HEADER_BYTES + entry(i).getSerializedSize();
    }
    return offset;
  }

  private static Path writeLog(Path dir, long segmentBytesMax, long lastIndex) throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      for (long index = 1; index <= lastIndex; index++) {
        log.append(List.of(entry(index)));
        log.sync();
      }
    }
    return dir;
  }

  @Test
  void aSegmentIsPreallocatedAndTheZerosAfterItsLastRecordAreTheEndOfTheLog() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), SEGMENT_BYTES, 20);
    Path segment = LogSegment.list(dir).get(0);
    assertEquals(SEGMENT_BYTES, Files.size(segment), "preallocated");
    byte[] before = Files.readAllBytes(segment);
    assertTrue(LogSegment.zeroFrom(java.nio.ByteBuffer.wrap(before), (int) recordEnd(20)));

    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      assertEquals(20, log.lastIndex());
      assertEquals(recordEnd(20), log.sizeBytes());
      // Nothing was cut: the zeros are not a torn write.
      assertArrayEquals(before, Files.readAllBytes(segment));
      log.append(entries(21, 23));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      assertEquals(entries(1, 23), replayed(log, 0));
      assertEquals(SEGMENT_BYTES, Files.size(segment));
    }
  }

  /**
   * A segment is preallocated to segment-bytes-max, and finished once its records reach it, so a
   * finished segment normally holds no zeros; but one preallocated under a larger setting (lowered
   * since) is finished early, with zeros after its records. Those are its end too.
   */
  @Test
  void aFinishedSegmentEndingInZerosIsWholeAndTheLogGoesOnAfterIt() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), SEGMENT_BYTES, 20);
    long small = 1024;
    try (WriteAheadLog log = WriteAheadLog.open(dir, small)) {
      log.append(entries(21, 60));
      log.sync();
    }
    List<Path> segments = LogSegment.list(dir);
    assertTrue(segments.size() > 1, "the big segment was finished: " + segments);
    Path first = segments.get(0);
    assertEquals(SEGMENT_BYTES, Files.size(first));
    long firstRecords = StorageTestData.recordBytesIn(first);
    assertTrue(firstRecords < SEGMENT_BYTES, "zeros after the records of a finished segment");
    for (long segmentBytesMax : List.of(small, SEGMENT_BYTES)) {
      try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
        assertEquals(entries(1, 60), replayed(log, 0));
      }
    }
  }

  @Test
  void zerosWhereSyncedRecordsOfAFinishedSegmentWereAreStillCorruption() throws IOException {
    long small = 1024;
    Path dir = writeLog(tmp.resolve("log"), small, 60);
    Path first = LogSegment.list(dir).get(0);
    byte[] bytes = Files.readAllBytes(first);
    long secondStart = LogSegment.firstIndexOf(LogSegment.list(dir).get(1));
    // The last record of the first segment, synced long ago, reads back as zeros.
    long lastRecordStart = recordEnd(secondStart - 2);
    Arrays.fill(bytes, (int) lastRecordStart, bytes.length, (byte) 0);
    Files.write(first, bytes);
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, small));
    assertTrue(e.getMessage().contains("records are missing"), e.getMessage());
  }

  @Test
  void aTornFinalWriteInsideThePreallocatedAreaIsCutAndTheFileIsPreallocatedAgain()
      throws IOException {
    Path dir = writeLog(tmp.resolve("log"), SEGMENT_BYTES, 20);
    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      log.append(entries(21, 200)); // the final group, spread over more than a page
      log.sync();
    }
    Path segment = LogSegment.list(dir).get(0);
    byte[] bytes = Files.readAllBytes(segment);
    assertTrue(recordEnd(200) - recordEnd(20) > 2 * 4096, "the final group spans pages");
    // The page holding the final group's start never reached the disk; later ones did.
    long lostFrom = recordEnd(20);
    Arrays.fill(bytes, (int) lostFrom, (int) (lostFrom / 4096 + 1) * 4096, (byte) 0);
    Files.write(segment, bytes);

    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      assertEquals(20, log.lastIndex());
      assertEquals(recordEnd(20), Files.size(segment), "cut at the torn write");
      log.append(entries(21, 22));
      log.sync();
      assertEquals(SEGMENT_BYTES, Files.size(segment), "preallocated again before appending");
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      assertEquals(entries(1, 22), replayed(log, 0));
    }
  }

  @Test
  void garbageInsideThePreallocatedAreaAfterTheLastRecordIsATornWrite() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), SEGMENT_BYTES, 20);
    Path segment = LogSegment.list(dir).get(0);
    byte[] bytes = Files.readAllBytes(segment);
    for (int i = 0; i < 100; i++) {
      bytes[(int) recordEnd(20) + 5000 + i] = (byte) (i + 1); // part of a lost write's page
    }
    Files.write(segment, bytes);
    try (WriteAheadLog log = WriteAheadLog.open(dir, SEGMENT_BYTES)) {
      assertEquals(20, log.lastIndex());
      assertEquals(recordEnd(20), Files.size(segment));
    }
  }

  @Test
  void aSegmentOfZerosLeftByACrashRightAfterItsPreallocationIsRemoved() throws IOException {
    long small = 1024;
    Path dir = writeLog(tmp.resolve("log"), small, 30);
    long last = LogSegment.firstIndexOf(LogSegment.list(dir).get(LogSegment.list(dir).size() - 1));
    // As the next roll leaves it when the machine dies before the new segment's first write
    // (which carries its header) is synced: created, preallocated, all zeros.
    Path next = dir.resolve(LogSegment.fileName(31));
    Files.write(next, new byte[(int) small]);
    assertTrue(last < 31);
    try (WriteAheadLog log = WriteAheadLog.open(dir, small)) {
      assertEquals(30, log.lastIndex());
      assertFalse(Files.exists(next));
      log.append(entries(31, 33));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, small)) {
      assertEquals(entries(1, 33), replayed(log, 0));
    }
  }

  /**
   * The real sequence on a simulated disk: a crash at each fsync around a roll (the old segment's
   * last sync, the directory, the preallocation, the new segment's first group) and right after,
   * many times with different fates for the unsynced pages. Recovery always opens the log with
   * every synced record, and the log goes on.
   */
  @Test
  void aCrashAtAnyFsyncAroundARollRecoversEverythingSynced() throws IOException {
    long small = 1024;
    Path dir = Path.of("/data/log");
    for (int crashAt = 1; crashAt <= 5; crashAt++) {
      for (long seed = 0; seed < 40; seed++) {
        SimulatedDisk disk = new SimulatedDisk(seed * 31 + crashAt, SimulatedDisk.SECTOR_BYTES);
        long synced = 0;
        try (WriteAheadLog log = WriteAheadLog.open(disk, dir, small)) {
          long next = 1;
          // Fill up to just before a roll.
          while (log.sizeBytes() < small) {
            log.append(List.of(entry(next)));
            log.sync();
            synced = next++;
          }
          disk.crashAtFsync(crashAt);
          try {
            log.append(entries(next, next + 9));
            log.sync();
            synced = next + 9;
            log.append(entries(next + 10, next + 12));
            log.sync();
            synced = next + 12;
            disk.crash(); // no fsync crashed: crash now
          } catch (IOException crashed) {
            // the planned crash
          }
        } catch (IOException closingAfterCrash) {
          // the process is gone
        }
        String what = "crash at fsync " + crashAt + ", seed " + seed;
        try (WriteAheadLog log = WriteAheadLog.open(disk, dir, small)) {
          long last = log.lastIndex();
          assertTrue(last >= synced, what + ": lost synced records, last " + last + " < " + synced);
          List<LogEntry> all = replayed(log, 0);
          assertEquals(entries(1, last), all, what);
          log.append(entries(last + 1, last + 2));
          log.sync();
        }
        try (WriteAheadLog log = WriteAheadLog.open(disk, dir, small)) {
          assertEquals(entries(1, log.lastIndex()), replayed(log, 0), what);
        }
      }
    }
  }
}
