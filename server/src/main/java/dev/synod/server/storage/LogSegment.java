package dev.synod.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One file of the write-ahead log, {@code log-<first index, 20 digits>.seg}: a {@value
 * #HEADER_BYTES}-byte header (magic, format version, first index) followed by records (see {@link
 * LogRecord}), then (format 4) zeros up to the size the file was preallocated to. Tracks which
 * indexes the file holds and how long its valid part is.
 *
 * <p>{@link #lastIndex()} and {@link #sizeBytes()} are written only by the thread that appends and
 * are volatile so that other threads (truncation, metrics) may read them.
 */
final class LogSegment {
  static final int MAGIC = 0x53594E4C; // "SYNL"

  /**
   * Version 4: records as in version 3, in a file preallocated with zeros (see {@link
   * WriteAheadLog}): zeros from the end of the last record to the end of the file are the end of
   * the segment, in a finished segment too, not damage. (A version-3 reader would call those zeros
   * corruption in a finished segment, hence the new number: it refuses the file instead.) Version
   * 3: each record carries the index where its group commit began (see {@link LogRecord}), which
   * tells a torn final write from corruption; still read, with its rule that anything after the
   * last record is a torn write or damage. Version 2 (records without the group start) is still
   * read, with the stricter rule it allows. Older versions are never appended to: the first append
   * after opening such a log starts a new segment. Version 1 held {@code Txn}; a Txn would parse
   * as a LogEntry without a body, so version 1 files are refused, not misread.
   */
  static final int FORMAT_VERSION = 4;

  /** The first format whose segments are preallocated: a tail of zeros is their end. */
  static final int FORMAT_VERSION_PREALLOCATED = 4;

  /** The oldest format this code reads. */
  static final int FORMAT_VERSION_OLDEST_READ = 2;

  static final int HEADER_BYTES = 4 + 4 + 8;

  private static final Pattern FILE_NAME = Pattern.compile("log-(\\d{20})\\.seg");

  private final Path path;
  private final int formatVersion;
  private final long firstIndex;
  private volatile long lastIndex;
  private volatile long sizeBytes;

  LogSegment(Path path, int formatVersion, long firstIndex, long lastIndex, long sizeBytes) {
    this.path = path;
    this.formatVersion = formatVersion;
    this.firstIndex = firstIndex;
    this.lastIndex = lastIndex;
    this.sizeBytes = sizeBytes;
  }

  /** A segment that has just been created and holds only its header. */
  static LogSegment created(Path path, long firstIndex) {
    return new LogSegment(path, FORMAT_VERSION, firstIndex, firstIndex - 1, HEADER_BYTES);
  }

  /** The format its header gives; records are written only to segments of the current one. */
  int formatVersion() {
    return formatVersion;
  }

  Path path() {
    return path;
  }

  long firstIndex() {
    return firstIndex;
  }

  /** The index of the last record, or {@code firstIndex() - 1} while the segment has none. */
  long lastIndex() {
    return lastIndex;
  }

  /** Bytes of header and records, including records still in the write buffer. */
  long sizeBytes() {
    return sizeBytes;
  }

  void recordAppended(long index, int recordBytes) {
    lastIndex = index;
    sizeBytes += recordBytes;
  }

  static String fileName(long firstIndex) {
    return String.format("log-%020d.seg", firstIndex);
  }

  /** The first index encoded in a segment's file name, or -1 if it is not a segment's name. */
  static long firstIndexOf(Path file) {
    Matcher m = FILE_NAME.matcher(file.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** The segment files in {@code dir}, oldest first (20-digit names sort by index). */
  static List<Path> list(Disk disk, Path dir) throws IOException {
    return disk.list(dir).stream().filter(p -> firstIndexOf(p) >= 0).sorted().toList();
  }

  /** The segment files in {@code dir} of the real file system, oldest first. */
  static List<Path> list(Path dir) throws IOException {
    return list(Disk.REAL, dir);
  }

  static void writeHeader(ByteBuffer buffer, long firstIndex) {
    buffer.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(firstIndex);
  }

  /** Whether {@code bytes} starts with a complete header carrying our magic. */
  static boolean hasHeader(ByteBuffer bytes) {
    return bytes.limit() >= HEADER_BYTES && bytes.getInt(0) == MAGIC;
  }

  static int formatVersion(ByteBuffer bytes) {
    return bytes.getInt(4);
  }

  static long headerFirstIndex(ByteBuffer bytes) {
    return bytes.getLong(8);
  }

  /** Reads the first {@code lengthBytes} of {@code file} into a heap buffer. */
  static ByteBuffer read(Disk disk, Path file, long lengthBytes) throws IOException {
    // Segments are bounded (WriteAheadLog.SEGMENT_BYTES_LIMIT plus one record), so reading one
    // whole segment at a time keeps recovery simple: records are parsed in place, and the forward
    // scan that tells a torn write from corruption can look anywhere in the file.
    if (lengthBytes > Integer.MAX_VALUE - 8) {
      throw new IOException(file + " is too large to be a log segment: " + lengthBytes + " bytes");
    }
    ByteBuffer bytes = disk.read(file, (int) lengthBytes);
    if (bytes.limit() < lengthBytes) {
      throw new CorruptLogException(
          file.toAbsolutePath()
              + " is shorter than expected: "
              + bytes.limit()
              + " of "
              + lengthBytes
              + " bytes");
    }
    return bytes;
  }

  /** Whether every byte of {@code bytes} from {@code offset} to its limit is zero. */
  static boolean zeroFrom(ByteBuffer bytes, int offset) {
    int at = offset;
    for (; at + Long.BYTES <= bytes.limit(); at += Long.BYTES) {
      if (bytes.getLong(at) != 0) {
        return false;
      }
    }
    for (; at < bytes.limit(); at++) {
      if (bytes.get(at) != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return path.getFileName() + "[" + firstIndex + ".." + lastIndex + ", " + sizeBytes + " bytes]";
  }
}
