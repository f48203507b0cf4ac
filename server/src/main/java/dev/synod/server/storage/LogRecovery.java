package dev.synod.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Validates the log segments found when the log is opened, and repairs the one kind of damage a
 * crash can cause.
 *
 * <p>Only the last segment can hold unsynced bytes ({@link WriteAheadLog} syncs a segment before it
 * starts the next one), so only its end can be torn by a crash. A bad record there with nothing
 * valid after it is such a torn tail: it was never acknowledged, and is cut off. Anything else (a
 * bad record followed by a valid one, a bad record in an earlier segment, missing indexes) cannot
 * come from a crash; it is reported as {@link CorruptLogException} and the server does not start.
 */
final class LogRecovery {
  private final Path dir;
  private final CRC32C crc = new CRC32C();

  private LogRecovery(Path dir) {
    this.dir = dir;
  }

  /** Returns the valid segments of {@code dir}, oldest first, after cutting off a torn tail. */
  static List<LogSegment> recover(Path dir) throws IOException {
    return new LogRecovery(dir).recoverAll();
  }

  private List<LogSegment> recoverAll() throws IOException {
    List<Path> files = LogSegment.list(dir);
    List<LogSegment> segments = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      LogSegment previous = segments.isEmpty() ? null : segments.get(segments.size() - 1);
      LogSegment segment = recoverSegment(files.get(i), i == files.size() - 1, previous);
      if (segment != null) {
        segments.add(segment);
      }
    }
    return segments;
  }

  /** Validates one segment; returns null if it was the last one and held only a torn header. */
  private LogSegment recoverSegment(Path file, boolean isLast, LogSegment previous)
      throws IOException {
    long firstIndex = LogSegment.firstIndexOf(file);
    long lastGoodIndex = previous == null ? firstIndex - 1 : previous.lastIndex();
    ByteBuffer bytes = LogSegment.read(file, Files.size(file));

    if (!LogSegment.hasHeader(bytes)) {
      if (!isLast || validRecordAfter(bytes, 0, lastGoodIndex) >= 0) {
        throw CorruptLogException.at(file, 0, lastGoodIndex, "missing or damaged segment header");
      }
      // A crash while the segment was being created: it holds nothing that was acknowledged.
      Files.delete(file);
      DataDir.fsyncDirectory(dir);
      StorageWarnings.warn(
          "write-ahead log "
              + file.toAbsolutePath()
              + ": removed a segment whose header was cut"
              + " short by a crash ("
              + bytes.limit()
              + " bytes); last index is "
              + lastGoodIndex);
      return null;
    }
    if (LogSegment.formatVersion(bytes) != LogSegment.FORMAT_VERSION) {
      throw new IOException(
          "write-ahead log "
              + file.toAbsolutePath()
              + " has format version "
              + LogSegment.formatVersion(bytes)
              + "; this Synod reads version "
              + LogSegment.FORMAT_VERSION);
    }
    if (LogSegment.headerFirstIndex(bytes) != firstIndex) {
      throw CorruptLogException.at(
          file,
          0,
          lastGoodIndex,
          "header says the first index is "
              + LogSegment.headerFirstIndex(bytes)
              + " but the file name says "
              + firstIndex);
    }
    if (firstIndex < 1 || (previous != null && firstIndex != previous.lastIndex() + 1)) {
      throw CorruptLogException.at(
          file,
          0,
          lastGoodIndex,
          "segment starts at index "
              + firstIndex
              + " but the log before it ends at index "
              + lastGoodIndex
              + ": records are missing");
    }

    int offset = LogSegment.HEADER_BYTES;
    long expectedIndex = firstIndex;
    while (offset < bytes.limit()) {
      LogRecord.Decoded record = LogRecord.decode(bytes, offset, crc);
      if (record == null) {
        cutTornTail(file, bytes, offset, isLast, expectedIndex - 1);
        break;
      }
      if (record.entry().getIndex() != expectedIndex) {
        throw CorruptLogException.at(
            file,
            offset,
            expectedIndex - 1,
            "record has index "
                + record.entry().getIndex()
                + " where index "
                + expectedIndex
                + " belongs: indexes must be contiguous");
      }
      offset += record.sizeBytes();
      expectedIndex++;
    }
    return new LogSegment(file, firstIndex, expectedIndex - 1, offset);
  }

  /**
   * Handles a bad record at {@code offset}: truncates the file there if it is a torn tail, or
   * throws if it is corruption.
   */
  private void cutTornTail(
      Path file, ByteBuffer bytes, int offset, boolean isLast, long lastGoodIndex)
      throws IOException {
    if (!isLast) {
      throw CorruptLogException.at(
          file, offset, lastGoodIndex, "damaged or incomplete record in a finished segment");
    }
    int next = validRecordAfter(bytes, offset + 1, lastGoodIndex);
    if (next >= 0) {
      throw CorruptLogException.at(
          file,
          offset,
          lastGoodIndex,
          "damaged record, but a valid later record follows at byte offset "
              + next
              + ", so this is not a write torn by a crash");
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(offset);
      channel.force(true);
    }
    StorageWarnings.warn(
        "write-ahead log "
            + file.toAbsolutePath()
            + ": cut off a torn tail of "
            + (bytes.limit() - offset)
            + " bytes at byte offset "
            + offset
            + " (an unsynced write cut short by a crash); last index is "
            + lastGoodIndex);
  }

  /**
   * The offset of the first well-formed record at or after {@code from} whose checksum holds and
   * whose index is above {@code lastGoodIndex}, or -1. Scans byte by byte, since the damaged
   * record's length cannot be trusted; this runs only on a damaged segment at startup.
   */
  private int validRecordAfter(ByteBuffer bytes, int from, long lastGoodIndex) {
    for (int offset = from; offset + LogRecord.HEADER_BYTES <= bytes.limit(); offset++) {
      LogRecord.Decoded record = LogRecord.decode(bytes, offset, crc);
      if (record != null && record.entry().getIndex() > lastGoodIndex) {
        return offset;
      }
    }
    return -1;
  }
}
