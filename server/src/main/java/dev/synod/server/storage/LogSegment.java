package dev.synod.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One file of the write-ahead log, {@code log-<first index, 20 digits>.seg}: a {@value
 * #HEADER_BYTES}-byte header (magic, format version, first index) followed by records (see {@link
 * LogRecord}). Tracks which indexes the file holds and how long its valid part is.
 *
 * <p>{@link #lastIndex()} and {@link #sizeBytes()} are written only by the thread that appends and
 * are volatile so that other threads (truncation, metrics) may read them.
 */
final class LogSegment {
  static final int MAGIC = 0x53594E4C; // "SYNL"

  /**
   * Version 2: records hold {@code LogEntry} (acceptor records). Version 1 held {@code Txn}; a Txn
   * would parse as a LogEntry without a body, so version 1 files are refused, not misread.
   */
  static final int FORMAT_VERSION = 2;

  static final int HEADER_BYTES = 4 + 4 + 8;

  private static final Pattern FILE_NAME = Pattern.compile("log-(\\d{20})\\.seg");

  private final Path path;
  private final long firstIndex;
  private volatile long lastIndex;
  private volatile long sizeBytes;

  LogSegment(Path path, long firstIndex, long lastIndex, long sizeBytes) {
    this.path = path;
    this.firstIndex = firstIndex;
    this.lastIndex = lastIndex;
    this.sizeBytes = sizeBytes;
  }

  /** A segment that has just been created and holds only its header. */
  static LogSegment created(Path path, long firstIndex) {
    return new LogSegment(path, firstIndex, firstIndex - 1, HEADER_BYTES);
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
  static List<Path> list(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries.filter(p -> firstIndexOf(p) >= 0).sorted().forEach(files::add);
    }
    return files;
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
  static ByteBuffer read(Path file, long lengthBytes) throws IOException {
    // Segments are bounded (WriteAheadLog.SEGMENT_BYTES_LIMIT plus one record), so reading one
    // whole
    // segment at a time keeps recovery simple: records are parsed in place, and the forward
    // scan that tells a torn tail from corruption can look anywhere in the file.
    if (lengthBytes > Integer.MAX_VALUE - 8) {
      throw new IOException(file + " is too large to be a log segment: " + lengthBytes + " bytes");
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) lengthBytes);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      while (bytes.hasRemaining()) {
        if (channel.read(bytes, bytes.position()) < 0) {
          throw new CorruptLogException(
              file.toAbsolutePath()
                  + " is shorter than expected: "
                  + bytes.position()
                  + " of "
                  + lengthBytes
                  + " bytes");
        }
      }
    }
    return bytes.flip();
  }

  @Override
  public String toString() {
    return path.getFileName() + "[" + firstIndex + ".." + lastIndex + ", " + sizeBytes + " bytes]";
  }
}
