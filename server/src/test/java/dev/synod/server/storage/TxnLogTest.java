package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.replayed;
import static dev.synod.server.storage.StorageTestData.txn;
import static dev.synod.server.storage.StorageTestData.txns;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Appending, syncing, replaying and truncating a healthy log. */
class TxnLogTest {
  private static final long SMALL_SEGMENT_BYTES = 256;

  @TempDir Path dir;

  @Test
  void roundTripAcrossSegmentsAndReopen() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(0, log.firstZxid());
      assertEquals(0, log.lastZxid());
      appendInBatches(log, 1, 300);
      assertEquals(1, log.firstZxid());
      assertEquals(300, log.lastZxid());
      assertEquals(txns(1, 300), replayed(log, 0));
    }
    assertTrue(LogSegment.list(dir).size() > 10, "expected many segments");

    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(1, log.firstZxid());
      assertEquals(300, log.lastZxid());
      assertEquals(txns(1, 300), replayed(log, 0));
      log.append(txns(301, 310));
      log.sync();
    }
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(txns(1, 310), replayed(log, 0));
    }
  }

  @Test
  void segmentFilesAreNamedByFirstZxidAndRollAtTheLimit() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 100);
    }
    List<Path> files = LogSegment.list(dir);
    assertEquals("log-00000000000000000001.seg", files.get(0).getFileName().toString());
    long recordBytesMax =
        LogRecord.HEADER_BYTES
            + txns(1, 100).stream().mapToInt(Txn::getSerializedSize).max().orElseThrow();
    for (Path file : files) {
      // The next record goes to a new segment once the limit is reached, even inside a batch.
      assertTrue(Files.size(file) < SMALL_SEGMENT_BYTES + recordBytesMax, file.toString());
    }
  }

  @Test
  void replayFromTheMiddle() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 300);
      assertEquals(txns(138, 300), replayed(log, 137));
      assertEquals(txns(300, 300), replayed(log, 299));
      assertEquals(List.of(), replayed(log, 300));
      assertEquals(List.of(), replayed(log, 500));
    }
  }

  @Test
  void appendWithWrongZxidIsAProgrammerError() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(txns(1, 5));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(txn(7))));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(txn(5))));
      assertThrows(IllegalStateException.class, () -> log.append(List.of(txn(6), txn(8))));
      assertEquals(5, log.lastZxid(), "a rejected batch appends nothing");
      log.append(List.of(txn(6)));
      log.sync();
      assertEquals(txns(1, 6), replayed(log, 0));
    }
  }

  @Test
  void anEmptyLogStartsAtTheFirstAppendedZxid() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(txns(201, 210));
      log.sync();
      assertEquals(201, log.firstZxid());
      assertEquals(txns(201, 210), replayed(log, 200));
      CorruptLogException e = assertThrows(CorruptLogException.class, () -> replayed(log, 100));
      assertTrue(
          e.getMessage().contains("starts at zxid 201 but the snapshot is at zxid 100"),
          e.getMessage());
    }
  }

  @Test
  void truncateBeforeKeepsTheCurrentSegmentAndEverythingAfterTheZxid() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      appendInBatches(log, 1, 300);
      int before = LogSegment.list(dir).size();

      log.truncateBefore(150);
      assertTrue(LogSegment.list(dir).size() < before);
      assertTrue(log.firstZxid() > 1 && log.firstZxid() <= 150, "first " + log.firstZxid());
      assertEquals(txns(150, 300), replayed(log, 149));
      assertThrows(CorruptLogException.class, () -> replayed(log, 0));
      assertEquals(diskBytes(), log.sizeBytes());

      log.truncateBefore(Long.MAX_VALUE);
      assertEquals(1, LogSegment.list(dir).size(), "the current segment stays");
      assertEquals(300, log.lastZxid());
      log.append(txns(301, 320));
      log.sync();
      assertEquals(txns(321 - 20, 320), replayed(log, 300));
    }
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(320, log.lastZxid());
    }
  }

  @Test
  void truncateBeforeIsSafeWhileAnotherThreadAppends() throws Exception {
    AtomicReference<Throwable> truncatorFailure = new AtomicReference<>();
    // A flag, not an interrupt: an interrupt closes a FileChannel in use by the thread.
    AtomicBoolean stop = new AtomicBoolean();
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      Thread truncator =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    log.truncateBefore(log.lastZxid() - 50);
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
      long first = log.firstZxid();
      assertTrue(first <= 3000 - 50, "first " + first);
      assertEquals(txns(first, 3000), replayed(log, first - 1));
    }
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(3000, log.lastZxid());
    }
  }

  @Test
  void groupCommitOfTenThousandRecords() throws IOException {
    try (TxnLog log = TxnLog.open(dir)) {
      // Large batches, one fsync each (throughput is measured by the benchmarks in tools/).
      for (int batch = 0; batch < 5; batch++) {
        log.append(txns(batch * 10_000L + 1, (batch + 1) * 10_000L));
        log.sync();
      }
      assertEquals(50_000, log.lastZxid());
      assertEquals(diskBytes(), log.sizeBytes());
    }
    try (TxnLog log = TxnLog.open(dir)) {
      assertEquals(txns(1, 50_000), replayed(log, 0));
    }
  }

  @Test
  void closeSyncsWhatWasAppended() throws IOException {
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      log.append(txns(1, 40));
    }
    try (TxnLog log = TxnLog.open(dir, SMALL_SEGMENT_BYTES)) {
      assertEquals(txns(1, 40), replayed(log, 0));
    }
  }

  /** Appends {@code first..last} in batches of 1 to 20 records, syncing after each. */
  static void appendInBatches(TxnLog log, long first, long last) throws IOException {
    long zxid = first;
    int batchSize = 1;
    while (zxid <= last) {
      long end = Math.min(last, zxid + batchSize - 1);
      List<Txn> batch = txns(zxid, end);
      log.append(batch);
      log.sync();
      zxid = end + 1;
      batchSize = batchSize % 20 + 1;
    }
  }

  private long diskBytes() throws IOException {
    long total = 0;
    for (Path file : LogSegment.list(dir)) {
      total += Files.size(file);
    }
    return total;
  }
}
