package dev.synod.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Validates the log segments found when the log is opened, and repairs the one kind of damage a
 * crash can cause: a torn final write.
 *
 * <p>The log writes in groups (everything between two fsyncs), and a group begins only once the one
 * before it is synced: {@link WriteAheadLog} syncs before it starts a new segment, and this class
 * syncs the last segment before appends resume. So only the final group can hold damage a crash
 * explains, and since the kernel writes its pages back in any order, any of them may be missing
 * while later ones survived. Each record carries the index where its group began (format 3, see
 * {@link LogRecord}). In the last segment, a bad record is a torn write when every valid record
 * after it belongs to one group that began at or before it (the group of the last good record, or
 * one that began with the bad record itself): that group is the final one, it was never synced, and
 * it is cut off from the bad record on. A bad record followed by a record of a later group was
 * synced before that group began: that, a bad record in an earlier segment, and missing indexes
 * cannot come from a crash; they are reported as {@link CorruptLogException} and the server does
 * not start. Segments of format 2, whose records do not say their group, are held to the stricter
 * rule of that format: a bad record is torn only if nothing valid follows it.
 *
 * <p>Segments of format 4 are preallocated: zeros from the end of the last valid record to the end
 * of the file are the unwritten rest of the file, the end of the segment (no cut, no warning), in
 * any segment. A torn write inside that area leaves something other than zeros after the bad spot
 * (a surviving later page of the final group, or part of the bad record) and is judged as above; a
 * final group lost whole leaves zeros, the same as never written, and ends the segment where the
 * last synced group ended. A last segment that is all zeros was created but its first write (with
 * the header) never reached the disk, and is removed.
 */
final class LogRecovery {
  private final Disk disk;
  private final Path dir;
  private final CRC32C crc = new CRC32C();

  private LogRecovery(Disk disk, Path dir) {
    this.disk = disk;
    this.dir = dir;
  }

  /**
   * Returns the valid segments of {@code dir}, oldest first, after cutting off a torn final write
   * and making the last segment durable (so that appends may start a new group after it).
   */
  static List<LogSegment> recover(Disk disk, Path dir) throws IOException {
    return new LogRecovery(disk, dir).recoverAll();
  }

  private List<LogSegment> recoverAll() throws IOException {
    List<Path> files = LogSegment.list(disk, dir);
    List<LogSegment> segments = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      LogSegment previous = segments.isEmpty() ? null : segments.get(segments.size() - 1);
      LogSegment segment = recoverSegment(files.get(i), i == files.size() - 1, previous);
      if (segment != null) {
        segments.add(segment);
      }
    }
    if (!segments.isEmpty()) {
      int last = segments.size() - 1;
      segments.set(last, readyForAppends(segments.get(last)));
    }
    return segments;
  }

  /**
   * Makes the last segment durable. The previous process may have died (its machine still up)
   * before its final write was synced: what this process reads from the page cache and acts on (a
   * promise it replays, say) must not be lost to a later crash, nor torn together with the next
   * write, which would look like a damaged synced write. A last segment of an older format that
   * holds no record gets a current header, so that appends can go on in it.
   */
  private LogSegment readyForAppends(LogSegment last) throws IOException {
    if (last.formatVersion() == LogSegment.FORMAT_VERSION
        || last.lastIndex() >= last.firstIndex()) {
      disk.fsync(last.path());
      return last;
    }
    ByteBuffer header = ByteBuffer.allocate(LogSegment.HEADER_BYTES);
    LogSegment.writeHeader(header, last.firstIndex());
    try (Disk.DiskFile file = disk.openForWrite(last.path(), 0)) {
      file.write(header.flip());
      file.force();
    }
    return LogSegment.created(last.path(), last.firstIndex());
  }

  /** Validates one segment; returns null if it was the last one and its header was torn. */
  private LogSegment recoverSegment(Path file, boolean isLast, LogSegment previous)
      throws IOException {
    long firstIndex = LogSegment.firstIndexOf(file);
    long lastGoodIndex = previous == null ? firstIndex - 1 : previous.lastIndex();
    ByteBuffer bytes = LogSegment.read(disk, file, disk.size(file));

    if (!LogSegment.hasHeader(bytes)) {
      removeTornSegment(file, bytes, isLast, firstIndex, lastGoodIndex);
      return null;
    }
    int version = LogSegment.formatVersion(bytes);
    if (version < LogSegment.FORMAT_VERSION_OLDEST_READ || version > LogSegment.FORMAT_VERSION) {
      throw new IOException(
          "write-ahead log "
              + file.toAbsolutePath()
              + " has format version "
              + version
              + ", written by "
              + (version > LogSegment.FORMAT_VERSION ? "a newer" : "an older")
              + " Synod; this Synod reads versions "
              + LogSegment.FORMAT_VERSION_OLDEST_READ
              + " to "
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
    long groupStart = firstIndex; // the header is written with the segment's first group
    while (offset < bytes.limit()) {
      LogRecord.Decoded record = LogRecord.decode(bytes, offset, version, crc);
      if (record == null && version >= LogSegment.FORMAT_VERSION_PREALLOCATED
          && LogSegment.zeroFrom(bytes, offset)) {
        // The rest of the preallocated file, never written (or its writes lost in a crash before
        // they were synced, which leaves the same zeros): the end of the segment, not damage. A
        // finished segment that lost synced records this way is caught by the next one's start.
        break;
      }
      if (record == null) {
        Tail tail = new Tail(file, bytes, offset, version, expectedIndex - 1, groupStart);
        if (!isLast) {
          throw tail.corrupt("damaged or incomplete record in a finished segment");
        }
        cutTornWrite(tail);
        break;
      }
      if (record.index() != expectedIndex) {
        throw CorruptLogException.at(
            file,
            offset,
            expectedIndex - 1,
            "record has index "
                + record.index()
                + " where index "
                + expectedIndex
                + " belongs: indexes must be contiguous");
      }
      if (version >= 3
          && record.groupStart() != groupStart
          && record.groupStart() != record.index()) {
        // Valid bytes that no writer of this log produces: a group is contiguous.
        throw CorruptLogException.at(
            file,
            offset,
            expectedIndex - 1,
            "record says its write began at index "
                + record.groupStart()
                + ", but the write before it began at index "
                + groupStart);
      }
      groupStart = record.groupStart();
      offset += record.sizeBytes();
      expectedIndex++;
    }
    return new LogSegment(file, version, firstIndex, expectedIndex - 1, offset);
  }

  /**
   * A last segment whose header is missing or damaged: if what follows could only be the rest of
   * the segment's first write (which carried the header), that write was torn and the segment holds
   * nothing acknowledged, so it is removed; otherwise it is corruption.
   */
  private void removeTornSegment(
      Path file, ByteBuffer bytes, boolean isLast, long firstIndex, long lastGoodIndex)
      throws IOException {
    Tail tail = new Tail(file, bytes, 0, LogSegment.FORMAT_VERSION, lastGoodIndex, firstIndex);
    if (!isLast) {
      throw tail.corrupt("missing or damaged segment header");
    }
    if (LogSegment.zeroFrom(bytes, 0)) {
      // Created (and maybe preallocated) but its first write, which carries the header, never
      // reached the disk: the crash came before that write was synced, so nothing in it counted.
      disk.deleteIfExists(file);
      disk.fsyncDirectory(dir);
      StorageWarnings.warn(
          "write-ahead log "
              + file.toAbsolutePath()
              + ": removed a segment whose first write never reached the disk before a crash ("
              + (bytes.limit() == 0 ? "an empty file" : bytes.limit() + " bytes, all zero")
              + "); last index is "
              + lastGoodIndex);
      return;
    }
    // Which format the segment had is unknown; records of format 2 say nothing of their write.
    int format2Record = new Tail(file, bytes, 0, 2, lastGoodIndex, firstIndex).anyValidRecord();
    if (format2Record >= 0) {
      throw tail.corrupt(
          "missing or damaged segment header, with a valid record after it at byte offset "
              + format2Record);
    }
    int dropped = tail.checkAllInTornGroup("missing or damaged segment header");
    disk.deleteIfExists(file);
    disk.fsyncDirectory(dir);
    StorageWarnings.warn(
        "write-ahead log "
            + file.toAbsolutePath()
            + ": removed a segment whose first write, which carries its header, was torn by a"
            + " crash ("
            + bytes.limit()
            + " bytes"
            + (dropped > 0 ? "; " + dropped + " valid records of that write after the header" : "")
            + "); last index is "
            + lastGoodIndex);
  }

  /** Truncates the last segment at a bad record if it is a torn write, or throws. */
  private void cutTornWrite(Tail tail) throws IOException {
    int dropped;
    if (tail.version >= 3) {
      dropped = tail.checkAllInTornGroup("damaged record");
    } else {
      int next = tail.anyValidRecord();
      if (next >= 0) {
        throw tail.corrupt(
            "damaged record, but a valid later record follows at byte offset "
                + next
                + ", so this is not a write torn by a crash");
      }
      dropped = 0;
    }
    disk.truncate(tail.file, tail.offset);
    StorageWarnings.warn(
        "write-ahead log "
            + tail.file.toAbsolutePath()
            + ": cut off a torn write of "
            + (tail.bytes.limit() - tail.offset)
            + " bytes at byte offset "
            + tail.offset
            + " (the last write before a crash, never synced"
            + (dropped > 0 ? "; " + dropped + " valid records of it after the damage" : "")
            + "); last index is "
            + tail.lastGoodIndex);
  }

  /**
   * The part of a segment from a bad record (or a bad header) on.
   *
   * @param offset where the bad record (or header) starts
   * @param lastGoodIndex the index of the last valid record before it, in this or an earlier
   *     segment
   * @param lastGroupStart where the write of that record began (the segment's first index if the
   *     bad spot comes before the segment's first record)
   */
  private final class Tail {
    final Path file;
    final ByteBuffer bytes;
    final int offset;
    final int version;
    final long lastGoodIndex;
    final long lastGroupStart;

    Tail(
        Path file,
        ByteBuffer bytes,
        int offset,
        int version,
        long lastGoodIndex,
        long lastGroupStart) {
      this.file = file;
      this.bytes = bytes;
      this.offset = offset;
      this.version = version;
      this.lastGoodIndex = lastGoodIndex;
      this.lastGroupStart = lastGroupStart;
    }

    CorruptLogException corrupt(String problem) {
      return CorruptLogException.at(file, offset, lastGoodIndex, problem);
    }

    /**
     * Checks that every valid record after the bad spot belongs to the write the bad spot was part
     * of, and that this write began at or before it: then the bad spot is part of the final write,
     * which was never synced. Returns how many such records there are.
     *
     * @throws CorruptLogException if a record of another write follows
     */
    int checkAllInTornGroup(String problem) throws CorruptLogException {
      long badIndex = lastGoodIndex + 1; // the index the damaged record held
      long tornGroup = -1;
      int count = 0;
      int at = offset + 1;
      // Scans byte by byte, since the damaged record's length cannot be trusted; this runs only on
      // a damaged segment at startup. From a valid record, it goes on at the record after it.
      while (at + LogRecord.HEADER_BYTES <= bytes.limit()) {
        LogRecord.Decoded record = decodeLater(at);
        if (record == null) {
          at++;
          continue;
        }
        long group = record.groupStart();
        boolean sameWrite =
            tornGroup < 0 ? group == lastGroupStart || group == badIndex : group == tornGroup;
        if (!sameWrite) {
          throw corrupt(
              problem
                  + ", but a valid record of "
                  + (group > badIndex ? "a later write" : "another write")
                  + " (one that began at index "
                  + group
                  + ") follows at byte offset "
                  + at
                  + ": the damaged record was synced before that write, so this is not a write"
                  + " torn by a crash");
        }
        tornGroup = group;
        count++;
        at += record.sizeBytes();
      }
      return count;
    }

    /** The offset of the first valid record after the bad spot, or -1. */
    int anyValidRecord() {
      for (int at = offset + 1; at < bytes.limit(); at++) {
        if (decodeLater(at) != null) {
          return at;
        }
      }
      return -1;
    }

    /**
     * The record at {@code at} if it is valid and could follow the bad spot (a higher index, and in
     * format 3 a group that does not start before the last good record's).
     */
    private LogRecord.Decoded decodeLater(int at) {
      // The group bound is checked before the checksum, so that scanning garbage rarely pays
      // for one: indexes are contiguous and every record takes more than a header, so a record
      // here holds at most one index per header's worth of bytes past the bad spot.
      long groupStartMax = lastGoodIndex + 1 + (at - offset) / LogRecord.HEADER_BYTES;
      LogRecord.Decoded record =
          LogRecord.decode(bytes, at, version, crc, lastGroupStart, groupStartMax);
      return record != null && record.index() > lastGoodIndex ? record : null;
    }
  }
}
