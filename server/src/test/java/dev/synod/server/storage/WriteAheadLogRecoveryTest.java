package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.entry;
import static dev.synod.server.storage.StorageTestData.flipByte;
import static dev.synod.server.storage.StorageTestData.replayed;
import static dev.synod.server.storage.StorageTestData.truncate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a damaged log: a torn tail (what a crash leaves) is cut off and the log goes on; any
 * other damage stops the server with CorruptLogException.
 */
class WriteAheadLogRecoveryTest {
  private static final long ONE_SEGMENT = WriteAheadLog.SEGMENT_BYTES_MAX_DEFAULT;

  /** Small enough that every record starts a new segment. */
  private static final long ONE_RECORD_PER_SEGMENT = LogSegment.HEADER_BYTES + 1;

  @TempDir Path tmp;

  @Test
  void tornTailIsCutAtEveryOffsetInsideTheLastRecord() throws IOException {
    Path template = writeLog(tmp.resolve("template"), ONE_SEGMENT, 20);
    Path segment = single(template);
    long lastRecordStart = recordOffset(20);
    long fullSize = Files.size(segment);
    assertEquals(fullSize, recordOffset(21));

    for (long cut = lastRecordStart; cut < fullSize; cut++) {
      Path dir = copy(template, tmp.resolve("cut-" + cut));
      truncate(single(dir), cut);
      assertRecoversTo(dir, ONE_SEGMENT, 19, lastRecordStart);
    }
  }

  @Test
  void garbageAfterTheLastRecordIsATornTail() throws IOException {
    Path template = writeLog(tmp.resolve("template"), ONE_SEGMENT, 20);
    long validSize = Files.size(single(template));
    byte[] random = new byte[3000];
    new Random(42).nextBytes(random);

    for (byte[] garbage : List.of(new byte[4096], random)) {
      Path dir = copy(template, tmp.resolve("garbage-" + garbage.length));
      Files.write(single(dir), garbage, StandardOpenOption.APPEND);
      assertRecoversTo(dir, ONE_SEGMENT, 20, validSize);
    }
  }

  @Test
  void segmentWithATornHeaderIsRemoved() throws IOException {
    Path template = writeLog(tmp.resolve("template"), ONE_RECORD_PER_SEGMENT, 5);
    assertEquals(5, LogSegment.list(template).size());

    for (int cut = 0; cut < LogSegment.HEADER_BYTES; cut++) {
      Path dir = copy(template, tmp.resolve("cut-" + cut));
      Path last = lastSegment(dir);
      truncate(last, cut);
      try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_RECORD_PER_SEGMENT)) {
        assertEquals(4, log.lastIndex());
        assertFalse(Files.exists(last), "cut at " + cut);
        log.append(entries(5, 6));
        log.sync();
      }
      try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_RECORD_PER_SEGMENT)) {
        assertEquals(entries(1, 6), replayed(log, 0));
      }
    }
  }

  @Test
  void segmentWithOnlyAHeaderIsEmpty() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), ONE_RECORD_PER_SEGMENT, 5);
    truncate(lastSegment(dir), LogSegment.HEADER_BYTES);
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_RECORD_PER_SEGMENT)) {
      assertEquals(4, log.lastIndex());
      assertEquals(5, LogSegment.list(dir).size());
      log.append(List.of(entry(5)));
      log.sync();
      assertEquals(entries(1, 5), replayed(log, 0));
    }
  }

  @Test
  void flippedByteInAnEarlyRecordIsCorruption() throws IOException {
    long recordStart = recordOffset(3);
    // One byte in the payload, one in the length field, one in the checksum.
    for (long damaged : List.of(recordStart + 12, recordStart + 1, recordStart + 6)) {
      Path dir = writeLog(tmp.resolve("flip-" + damaged), ONE_SEGMENT, 50);
      flipByte(single(dir), damaged);
      CorruptLogException e =
          assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, ONE_SEGMENT));
      assertMentions(
          e,
          single(dir).getFileName().toString(),
          "byte offset " + recordStart,
          "last good index 2",
          "refuses to start");
    }
  }

  @Test
  void flippedByteInAFinishedSegmentIsCorruption() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), 200, 60);
    List<Path> files = LogSegment.list(dir);
    assertTrue(files.size() > 3);
    // The finished segment's last byte: nothing valid follows it in that file, but a finished
    // segment was synced before the next one began, so a crash cannot have torn it.
    Path finished = files.get(1);
    flipByte(finished, Files.size(finished) - 1);
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, 200));
    assertMentions(e, finished.getFileName().toString(), "finished segment");
  }

  @Test
  void damagedHeaderOfAFinishedSegmentIsCorruption() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), ONE_RECORD_PER_SEGMENT, 5);
    Path second = LogSegment.list(dir).get(1);
    flipByte(second, 0);
    CorruptLogException e =
        assertThrows(
            CorruptLogException.class, () -> WriteAheadLog.open(dir, ONE_RECORD_PER_SEGMENT));
    assertMentions(e, second.getFileName().toString(), "byte offset 0", "header");
  }

  @Test
  void indexGapBetweenSegmentsIsCorruption() throws IOException {
    Path dir = writeLog(tmp.resolve("log"), 200, 30);
    try (WriteAheadLog later = WriteAheadLog.open(tmp.resolve("later"), 200)) {
      later.append(entries(40, 60));
      later.sync();
    }
    for (Path file : LogSegment.list(tmp.resolve("later"))) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir, 200));
    assertMentions(e, "log-00000000000000000040.seg", "starts at index 40", "ends at index 30");
  }

  @Test
  void indexGapInsideASegmentIsCorruption() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    Path file = dir.resolve(LogSegment.fileName(1));
    ByteBuffer bytes = ByteBuffer.allocate(4096);
    LogSegment.writeHeader(bytes, 1);
    CRC32C crc = new CRC32C();
    for (LogEntry entry : List.of(entry(1), entry(2), entry(4), entry(5))) {
      LogRecord.encode(entry, entry.getSerializedSize(), entry.getIndex(), bytes, crc);
    }
    Files.write(file, Arrays.copyOf(bytes.array(), bytes.position()));

    CorruptLogException e = assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir));
    assertMentions(
        e, "byte offset " + recordOffset(3), "last good index 2", "index 4", "contiguous");
  }

  /**
   * Valid records whose group starts do not fit (a group is contiguous, and a new one starts at its
   * own first record): no writer of this log makes them.
   */
  @Test
  void aRecordWhoseGroupDoesNotFitIsCorruption() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    ByteBuffer bytes = ByteBuffer.allocate(4096);
    LogSegment.writeHeader(bytes, 1);
    CRC32C crc = new CRC32C();
    long[] groupStarts = {1, 1, 2};
    for (int i = 0; i < groupStarts.length; i++) {
      LogEntry entry = entry(i + 1);
      LogRecord.encode(entry, entry.getSerializedSize(), groupStarts[i], bytes, crc);
    }
    Files.write(
        dir.resolve(LogSegment.fileName(1)), Arrays.copyOf(bytes.array(), bytes.position()));

    CorruptLogException e = assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(dir));
    assertMentions(
        e, "byte offset " + recordOffset(3), "began at index 2", "before it began at index 1");
  }

  /** A version-1 segment held Txns, which would parse as body-less LogEntries: it is refused. */
  @Test
  void aSegmentOfTheTxnLogFormatIsRefused() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    ByteBuffer bytes = ByteBuffer.allocate(4096);
    bytes.putInt(LogSegment.MAGIC).putInt(1).putLong(1);
    LogEntry asIfTxn = entry(1);
    LogRecord.encode(asIfTxn, asIfTxn.getSerializedSize(), 1, bytes, new CRC32C());
    Files.write(
        dir.resolve(LogSegment.fileName(1)), Arrays.copyOf(bytes.array(), bytes.position()));
    IOException e = assertThrows(IOException.class, () -> WriteAheadLog.open(dir));
    assertMentions(e, "format version 1", "an older Synod",
        "reads versions 2 to " + LogSegment.FORMAT_VERSION);
  }

  @Test
  void aSegmentOfANewerFormatIsRefused() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    ByteBuffer bytes = ByteBuffer.allocate(LogSegment.HEADER_BYTES);
    bytes.putInt(LogSegment.MAGIC).putInt(LogSegment.FORMAT_VERSION + 1).putLong(1);
    Files.write(dir.resolve(LogSegment.fileName(1)), bytes.array());
    IOException e = assertThrows(IOException.class, () -> WriteAheadLog.open(dir));
    assertMentions(e, "format version " + (LogSegment.FORMAT_VERSION + 1), "a newer Synod");
  }

  /**
   * A log written in format 2 (records that do not say where their write began) is read as it is;
   * appends go to a new segment of the current format.
   */
  @Test
  void aLogOfFormat2IsReadAndAppendsGoToANewSegment() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    writeFormat2Segment(dir, 1, entries(1, 30), new byte[0]);
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(30, log.lastIndex());
      assertEquals(entries(1, 30), replayed(log, 0));
      log.append(entries(31, 40));
      log.sync();
      assertEquals(entries(1, 40), replayed(log, 0));
    }
    List<Path> files = LogSegment.list(dir);
    assertEquals(2, files.size());
    assertEquals(LogSegment.fileName(31), files.get(1).getFileName().toString());
    assertEquals(
        LogSegment.FORMAT_VERSION,
        LogSegment.formatVersion(ByteBuffer.wrap(Files.readAllBytes(files.get(1)))));
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(entries(1, 40), replayed(log, 0));
    }
  }

  /**
   * Format 2 keeps the rule it allows: a bad last record with nothing valid after it is cut off,
   * one with a valid record after it is corruption (format 2 cannot say they were one write).
   */
  @Test
  void aLogOfFormat2KeepsItsTornTailRule() throws IOException {
    Path torn = Files.createDirectories(tmp.resolve("torn"));
    Path segment = writeFormat2Segment(torn, 1, entries(1, 20), new byte[0]);
    long lastRecordStart = Files.size(segment) - (8 + entry(20).getSerializedSize());
    truncate(segment, Files.size(segment) - 3);
    try (WriteAheadLog log = WriteAheadLog.open(torn, ONE_SEGMENT)) {
      assertEquals(19, log.lastIndex());
      assertEquals(lastRecordStart, Files.size(segment));
      log.append(entries(20, 22));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(torn, ONE_SEGMENT)) {
      assertEquals(entries(1, 22), replayed(log, 0));
    }

    Path damaged = Files.createDirectories(tmp.resolve("damaged"));
    segment = writeFormat2Segment(damaged, 1, entries(1, 20), new byte[0]);
    flipByte(segment, lastRecordStart - 5); // in record 19, record 20 intact after it
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> WriteAheadLog.open(damaged, ONE_SEGMENT));
    assertMentions(e, "last good index 18", "valid later record follows");
  }

  /** A format-2 last segment that holds no record is given a current header and appended to. */
  @Test
  void anEmptyLastSegmentOfFormat2IsContinuedInTheCurrentFormat() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("log"));
    writeFormat2Segment(dir, 1, entries(1, 10), new byte[0]);
    Path empty = writeFormat2Segment(dir, 11, List.of(), new byte[] {0, 0, 0, 9, 1});
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(10, log.lastIndex());
      log.append(entries(11, 15));
      log.sync();
    }
    assertEquals(2, LogSegment.list(dir).size());
    assertEquals(
        LogSegment.FORMAT_VERSION,
        LogSegment.formatVersion(ByteBuffer.wrap(Files.readAllBytes(empty))));
    try (WriteAheadLog log = WriteAheadLog.open(dir, ONE_SEGMENT)) {
      assertEquals(entries(1, 15), replayed(log, 0));
    }
  }

  /**
   * Writes a segment in format 2: header, then {@code [int32 length][int32 CRC32C of (length,
   * payload)][payload]} per entry, then {@code tail}.
   */
  private static Path writeFormat2Segment(
      Path dir, long firstIndex, List<LogEntry> entries, byte[] tail) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
    bytes.putInt(LogSegment.MAGIC).putInt(2).putLong(firstIndex);
    CRC32C crc = new CRC32C();
    for (LogEntry entry : entries) {
      byte[] payload = entry.toByteArray();
      byte[] length = ByteBuffer.allocate(4).putInt(payload.length).array();
      crc.reset();
      crc.update(length);
      crc.update(payload);
      bytes.put(length).putInt((int) crc.getValue()).put(payload);
    }
    bytes.put(tail);
    Path file = dir.resolve(LogSegment.fileName(firstIndex));
    Files.write(file, Arrays.copyOf(bytes.array(), bytes.position()));
    return file;
  }

  /**
   * Opens {@code dir}, expects the log to end at {@code lastIndex}, its records ending at {@code
   * size}, then appends and checks that the log continues with the right indexes.
   */
  private static void assertRecoversTo(Path dir, long segmentBytesMax, long lastIndex, long size)
      throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      assertEquals(lastIndex, log.lastIndex(), dir.toString());
      // Cut there, or (format 4) followed by nothing but zeros, which are the log's end.
      assertEquals(size, StorageTestData.recordBytesIn(lastSegment(dir)), dir.toString());
      assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(lastIndex + 2))));
      log.append(entries(lastIndex + 1, lastIndex + 3));
      log.sync();
    }
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      assertEquals(entries(1, lastIndex + 3), replayed(log, 0));
    }
  }

  private static void assertMentions(Exception e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
    }
  }

  /** Byte offset of record {@code index} in a log that starts at index 1 in one segment. */
  private static long recordOffset(long index) {
    long offset = LogSegment.HEADER_BYTES;
    for (long i = 1; i < index; i++) {
      offset += LogRecord.HEADER_BYTES + entry(i).getSerializedSize();
    }
    return offset;
  }

  /** A log of single-record groups, its files cut to their records (see trimToRecords). */
  private static Path writeLog(Path dir, long segmentBytesMax, long lastIndex) throws IOException {
    try (WriteAheadLog log = WriteAheadLog.open(dir, segmentBytesMax)) {
      for (long index = 1; index <= lastIndex; index++) {
        log.append(List.of(entry(index)));
        log.sync();
      }
    }
    StorageTestData.trimToRecords(dir);
    return dir;
  }

  private static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path file : LogSegment.list(from)) {
      Files.copy(file, to.resolve(file.getFileName()));
    }
    return to;
  }

  private static Path single(Path dir) throws IOException {
    List<Path> files = LogSegment.list(dir);
    assertEquals(1, files.size());
    return files.get(0);
  }

  private static Path lastSegment(Path dir) throws IOException {
    List<Path> files = LogSegment.list(dir);
    return files.get(files.size() - 1);
  }
}
