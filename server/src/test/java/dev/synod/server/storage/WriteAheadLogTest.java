package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.entry;
import static dev.synod.server.storage.StorageTestData.replayed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.txn.v1.AcceptedEntry;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Appending, syncing, replaying and truncating a healthy log. */
class WriteAheadLogTest {
  private static final long SMALL_SEGMENT_BYTES = 256;

  @TempDir Path dir;

  @Test
  void roundTripAcrossSegmentsAndReopen() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(0, log.firstIndex());
      assertEquals(0, log.lastIndex());
      appendInBatches(log, 1, 300);
      assertEquals(1, log.firstIndex());
      assertEquals(300, log.lastIndex());
      assertEquals(entries(1, 300), replayed(log, 0));
    }
    assertTrue(LogSegment.list(dir).size() > 10, "expected many segments");

    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(1, log.firstIndex());
      assertEquals(300, log.lastIndex());
      assertEquals(entries(1, 300), replayed(log, 0));
      log.append(entries(301, 310));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(entries(1, 310), replayed(log, 0));
    }
  }

  @Test
  void segmentFilesAreNamedByFirstIndexAndRollAtTheLimit() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 100);
    }
    List<Path> files = LogSegment.list(dir);
    assertEquals("log-00000000000000000001.seg", files.get(0).getFileName().toString());
    long recordBytesMax =
        LogRecord.HEADER_BYTES
            + entries(1, 100).stream().mapToInt(LogEntry::getSerializedSize).max().orElseThrow();
    for (Path file : files) {
      // The next record goes to a new segment once the limit is reached, even inside a batch.
      assertTrue(Files.size(file) < SMALL_SEGMENT_BYTES + recordBytesMax, file.toString());
    }
  }

  @Test
  void replayFromTheMiddle() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 300);
      assertEquals(entries(138, 300), replayed(log, 137));
      assertEquals(entries(300, 300), replayed(log, 299));
      assertEquals(List.of(), replayed(log, 300));
      assertEquals(List.of(), replayed(log, 500));
    }
  }

  @Test
  void appendWithWrongIndexIsAProgrammerError() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(entries(1, 5));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(7))));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(5))));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(6), entry(8))));
      assertEquals(5, log.lastIndex(), "a rejected batch appends nothing");
      log.append(List.of(entry(6)));
      log.sync();
      assertEquals(entries(1, 6), replayed(log, 0));
    }
  }

  @Test
  void aRecordTooLargeIsRefusedAndTheLogGoesOn() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(entries(1, 3));
      LogEntry huge =
          LogEntry.newBuilder()
              .setIndex(4)
              .setAccepted(
                  AcceptedEntry.newBuilder()
                      .setSlot(4)
                      .setValue(ByteString.copyFrom(new byte[LogRecord.PAYLOAD_BYTES_MAX])))
              .build();
      assertThrows(IllegalArgumentException.class, () -> log.append(List.of(huge)));
      assertEquals(3, log.lastIndex());
      log.append(entries(4, 5));
      log.sync();
      assertEquals(entries(1, 5), replayed(log, 0));
    }
  }

  @Test
  void anEmptyLogStartsAtTheFirstAppendedIndex() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(entries(201, 210));
      log.sync();
      assertEquals(201, log.firstIndex());
      assertEquals(entries(201, 210), replayed(log, 200));
      CorruptLogException e = assertThrows(CorruptLogException.class, () -> replayed(log, 100));
      assertTrue(
          e.getMessage().contains("starts at index 201 but records after index 100 were asked for"),
          e.getMessage());
    }
  }

  @Test
  void truncateBeforeKeepsTheCurrentSegmentAndEverythingFromTheIndex() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 300);
      int before = LogSegment.list(dir).size();

      log.truncateBefore(150);
      assertTrue(LogSegment.list(dir).size() < before);
      assertTrue(log.firstIndex() > 1 && log.firstIndex() <= 150, "first " + log.firstIndex());
      assertEquals(entries(150, 300), replayed(log, 149));
      assertThrows(CorruptLogException.class, () -> replayed(log, 0));
      List<LogEntry> all = new ArrayList<>();
      log.replayAll(all::add);
      assertEquals(entries(log.firstIndex(), 300), all, "replayAll starts at the oldest kept");
      assertEquals(diskBytes(), log.sizeBytes());

      log.truncateBefore(Long.MAX_VALUE);
      assertEquals(1, LogSegment.list(dir).size(), "the current segment stays");
      assertEquals(300, log.lastIndex());
      log.append(entries(301, 320));
      log.sync();
      assertEquals(entries(321 - 20, 320), replayed(log, 300));
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(320, log.lastIndex());
    }
  }

  @Test
  void truncateBeforeIsSafeWhileAnotherThreadAppends() throws Exception {
    AtomicReference<Throwable> truncatorFailure = new AtomicReference<>();
    // A flag, not an interrupt: an interrupt closes a FileChannel in use by the thread.
    AtomicBoolean stop = new AtomicBoolean();
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      Thread truncator =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    log.truncateBefore(log.lastIndex() - 50);
                  }
                } catch (Throwable t) {
                  truncatorFailure.set(t);
                }
              });
      truncator.start();
      try {
        appendInBatches(log, 1, 3000);
      } finally {
        stop.set(true);
        truncator.join();
      }
      assertEquals(null, truncatorFailure.get());
      long first = log.firstIndex();
      assertTrue(first <= 3000 - 50, "first " + first);
      assertEquals(entries(first, 3000), replayed(log, first - 1));
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(3000, log.lastIndex());
    }
  }

  @Test
  void groupCommitOfTenThousandRecords() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir)) {
      // Large batches, one fsync each (throughput is measured by the benchmarks in tools/).
      for (int batch = 0; batch < 5; batch++) {
        log.append(entries(batch * 10_000L + 1, (batch + 1) * 10_000L));
        log.sync();
      }
      assertEquals(50_000, log.lastIndex());
      assertEquals(diskBytes(), log.sizeBytes());
      assertEquals(WriteAheadLog.SEGMENT_BYTES_MAX_DEFAULT, Files.size(LogSegment.list(dir).get(0)),
          "preallocated");
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir)) {
      assertEquals(entries(1, 50_000), replayed(log, 0));
    }
  }

  @Test
  void closeSyncsWhatWasAppended() throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(entries(1, 40));
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(entries(1, 40), replayed(log, 0));
    }
  }

  /** Appends {@code first..last} in batches of 1 to 20 records, syncing after each. */
  static void appendInBatches(WriteAheadLog log, long first, long last) throws IOException {
    long index = first;
    int batchSize = 1;
    while (index <= last) {
      long end = Math.min(last, index + batchSize - 1);
      List<LogEntry> batch = entries(index, end);
      log.append(batch);
      log.sync();
      index = end + 1;
      batchSize = batchSize % 20 + 1;
    }
  }

  /** The bytes of headers and records in the segment files (not the preallocated zeros). */
  private long diskBytes() throws IOException {
    long total = 0;
    for (Path file : LogSegment.list(dir)) {
      total += StorageTestData.recordBytesIn(file);
    }
    return total;
  }
}
