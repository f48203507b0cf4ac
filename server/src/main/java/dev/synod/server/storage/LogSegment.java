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
 * One file of the transaction log, {@code log-<first zxid, 20 digits>.seg}: a {@value
 * #HEADER_BYTES}-byte header (magic, format version, first zxid) followed by records (see {@link
 * LogRecord}). Tracks which zxids the file holds and how long its valid part is.
 *
 * <p>{@link #lastZxid()} and {@link #sizeBytes()} are written only by the thread that appends and
 * are volatile so that other threads (truncation, metrics) may read them.
 */
final class LogSegment {
  static final int MAGIC = 0x53594E4C; // "SYNL"
  static final int FORMAT_VERSION = 1;
  static final int HEADER_BYTES = 4 + 4 + 8;

  private static final Pattern FILE_NAME = Pattern.compile("log-(\\d{20})\\.seg");

  private final Path path;
  private final long firstZxid;
  private volatile long lastZxid;
  private volatile long sizeBytes;

  LogSegment(Path path, long firstZxid, long lastZxid, long sizeBytes) {
    this.path = path;
    this.firstZxid = firstZxid;
    this.lastZxid = lastZxid;
    this.sizeBytes = sizeBytes;
  }

  /** A segment that has just been created and holds only its header. */
  static LogSegment created(Path path, long firstZxid) {
    return new LogSegment(path, firstZxid, firstZxid - 1, HEADER_BYTES);
  }

  Path path() {
    return path;
  }

  long firstZxid() {
    return firstZxid;
  }

  /** The zxid of the last record, or {@code firstZxid() - 1} while the segment has none. */
  long lastZxid() {
    return lastZxid;
  }

  /** Bytes of header and records, including records still in the write buffer. */
  long sizeBytes() {
    return sizeBytes;
  }

  void recordAppended(long zxid, int recordBytes) {
    lastZxid = zxid;
    sizeBytes += recordBytes;
  }

  static String fileName(long firstZxid) {
    return String.format("log-%020d.seg", firstZxid);
  }

  /** The first zxid encoded in a segment's file name, or -1 if it is not a segment's name. */
  static long firstZxidOf(Path file) {
    Matcher m = FILE_NAME.matcher(file.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** The segment files in {@code dir}, oldest first (20-digit names sort by zxid). */
  static List<Path> list(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries.filter(p -> firstZxidOf(p) >= 0).sorted().forEach(files::add);
    }
    return files;
  }

  static void writeHeader(ByteBuffer buffer, long firstZxid) {
    buffer.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(firstZxid);
  }

  /** Whether {@code bytes} starts with a complete header carrying our magic. */
  static boolean hasHeader(ByteBuffer bytes) {
    return bytes.limit() >= HEADER_BYTES && bytes.getInt(0) == MAGIC;
  }

  static int formatVersion(ByteBuffer bytes) {
    return bytes.getInt(4);
  }

  static long headerFirstZxid(ByteBuffer bytes) {
    return bytes.getLong(8);
  }

  /** Reads the first {@code lengthBytes} of {@code file} into a heap buffer. */
  static ByteBuffer read(Path file, long lengthBytes) throws IOException {
    // Segments are bounded (TxnLog.SEGMENT_BYTES_LIMIT plus one record), so reading one whole
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
    return path.getFileName() + "[" + firstZxid + ".." + lastZxid + ", " + sizeBytes + " bytes]";
  }
}
