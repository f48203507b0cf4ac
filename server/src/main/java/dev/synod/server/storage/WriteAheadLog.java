package dev.synod.server.storage;

import dev.synod.txn.v1.LogEntry;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The durable, segmented, append-only log of {@link LogEntry} records (a server's Paxos acceptor
 * records), numbered by {@link LogEntry#getIndex()}: +1 per record, no gaps, within and across
 * segments.
 *
 * <p>Threads: {@link #append}, {@link #sync}, {@link #replay} and {@link #close} belong to one
 * thread (the commit thread; replay runs during recovery, before appends start). {@link
 * #truncateBefore} may run on another thread at the same time; it and the append path share only
 * the segment list, under a lock held for list updates, never for I/O. The index and size getters
 * may be called from any thread.
 *
 * <p>Group commit: {@code append} only encodes records into a direct buffer; {@code sync} writes
 * the buffer with one write call and fsyncs once, however many records the batch has. Everything
 * appended between two fsyncs is one <i>group</i>, and each record carries the index where its
 * group began, so that recovery can tell a torn final write from corruption (see {@link
 * LogRecovery}); the log starts a new group only once the one before it is synced.
 *
 * <p>Preallocation: each segment file is made {@code segmentBytesMax} long (zeros) when it is
 * created or first opened for appends, and that size is made durable, so the fsync of each group
 * is an fdatasync that writes the data alone, with no size change to journal (what ZooKeeper's
 * padding and etcd's preallocation buy). Recovery reads the zeros after the last record as the end
 * of the segment (format 4, see {@link LogRecovery}).
 *
 * <p>Failures: any I/O error leaves the log in an unknown state (after a failed fsync the kernel
 * may have dropped the dirty pages), so the log refuses all further writes; the caller must stop.
 */
public final class WriteAheadLog implements Closeable {
  public static final long SEGMENT_BYTES_MAX_DEFAULT = 64L << 20;

  /** Upper bound for {@code segmentBytesMax}: recovery reads one whole segment into memory. */
  static final long SEGMENT_BYTES_LIMIT = 1L << 30;

  /** Enough for a batch of thousands of small records in one write call; grows for a huge one. */
  private static final int WRITE_BUFFER_BYTES = 4 << 20;

  private final Disk disk;
  private final Path dir;
  private final long segmentBytesMax;

  private final Object segmentsLock = new Object();

  /** Oldest first; the last one is the one being appended to. Guarded by segmentsLock. */
  private final List<LogSegment> segments;

  // Owned by the commit thread. Only it changes the tail of the segment list, so it may keep the
  // last segment here without the lock.
  private LogSegment active; // the last segment, or null when there are none
  private final CRC32C crc = new CRC32C();
  private ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
  private Disk.DiskFile file; // the last segment's, opened on the first append
  private boolean unsynced;
  private long groupStart; // the index of the first record appended since the last fsync
  private IOException failure;
  private boolean closed;

  private WriteAheadLog(Disk disk, Path dir, long segmentBytesMax, List<LogSegment> segments) {
    this.disk = disk;
    this.dir = dir;
    this.segmentBytesMax = segmentBytesMax;
    this.segments = segments;
    this.active = segments.isEmpty() ? null : segments.get(segments.size() - 1);
  }

  /** Opens the log in {@code logDir} with {@link #SEGMENT_BYTES_MAX_DEFAULT}. */
  public static WriteAheadLog open(Path logDir) throws IOException {
    return open(logDir, SEGMENT_BYTES_MAX_DEFAULT);
  }

  /**
   * Opens the log in {@code logDir} of the real file system (see {@link #open(Disk, Path, long)}).
   */
  public static WriteAheadLog open(Path logDir, long segmentBytesMax) throws IOException {
    return open(Disk.REAL, logDir, segmentBytesMax);
  }

  /**
   * Opens (or creates) the log in {@code logDir} on {@code disk}, validating every segment and
   * cutting off a torn final write left by a crash.
   *
   * @param segmentBytesMax a segment is closed and a new one started once it reaches this size
   * @throws CorruptLogException if the log is damaged in a way a crash cannot explain
   */
  public static WriteAheadLog open(Disk disk, Path logDir, long segmentBytesMax)
      throws IOException {
    if (segmentBytesMax <= LogSegment.HEADER_BYTES || segmentBytesMax > SEGMENT_BYTES_LIMIT) {
      throw new IllegalArgumentException(
          "segmentBytesMax must be in ("
              + LogSegment.HEADER_BYTES
              + ", "
              + SEGMENT_BYTES_LIMIT
              + "]: "
              + segmentBytesMax);
    }
    disk.createDirectories(logDir);
    return new WriteAheadLog(
        disk, logDir, segmentBytesMax, new ArrayList<>(LogRecovery.recover(disk, logDir)));
  }

  /** The first index the log holds (its oldest segment's start), or 0 if it has no segments. */
  public long firstIndex() {
    synchronized (segmentsLock) {
      return segments.isEmpty() ? 0 : segments.get(0).firstIndex();
    }
  }

  /**
   * The index of the last appended record, or 0 for a log with no segments. A log whose segments
   * hold no records (all truncated but the newest, which was only just started) returns one less
   * than its first index, so the next append still has to continue where the log left off.
   */
  public long lastIndex() {
    synchronized (segmentsLock) {
      return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).lastIndex();
    }
  }

  /**
   * Bytes of headers and records, counting appended records not yet synced (not the preallocated
   * zeros after them).
   */
  public long sizeBytes() {
    synchronized (segmentsLock) {
      long total = 0;
      for (LogSegment segment : segments) {
        total += segment.sizeBytes();
      }
      return total;
    }
  }

  /**
   * Feeds {@code sink}, in order, every record with an index above {@code afterIndex}.
   *
   * @throws CorruptLogException if the log starts after {@code afterIndex + 1} (records the caller
   *     needs are missing), or a record no longer reads back as it did when the log was opened
   */
  public void replay(long afterIndex, Consumer<LogEntry> sink) throws IOException {
    replay(afterIndex, false, sink);
  }

  /** Feeds {@code sink}, in order, every record the log holds, however late it starts. */
  void replayAll(Consumer<LogEntry> sink) throws IOException {
    replay(0, true, sink);
  }

  private void replay(long afterIndex, boolean fromFirst, Consumer<LogEntry> sink)
      throws IOException {
    checkWritable();
    flushBuffer(); // so that the files hold everything appended so far
    List<LogSegment> toRead = segmentsSnapshot();
    if (toRead.isEmpty()) {
      return;
    }
    long first = toRead.get(0).firstIndex();
    if (fromFirst) {
      afterIndex = first - 1;
    } else if (afterIndex + 1 < first) {
      throw new CorruptLogException(
          "write-ahead log in "
              + dir.toAbsolutePath()
              + " starts at index "
              + first
              + " but records after index "
              + afterIndex
              + " were asked for: the records in between are"
              + " missing; Synod refuses to start rather than serve wrong data");
    }
    for (LogSegment segment : toRead) {
      if (segment.lastIndex() > afterIndex) {
        replaySegment(segment, afterIndex, sink);
      }
    }
  }

  private void replaySegment(LogSegment segment, long afterIndex, Consumer<LogEntry> sink)
      throws IOException {
    ByteBuffer bytes = LogSegment.read(disk, segment.path(), segment.sizeBytes());
    int offset = LogSegment.HEADER_BYTES;
    for (long index = segment.firstIndex(); index <= segment.lastIndex(); index++) {
      LogRecord.Decoded record = LogRecord.decode(bytes, offset, segment.formatVersion(), crc);
      if (record == null || record.entry().getIndex() != index) {
        throw CorruptLogException.at(
            segment.path(),
            offset,
            index - 1,
            "record for index "
                + index
                + " no longer reads back (damaged since the log was opened)");
      }
      if (index > afterIndex) {
        sink.accept(record.entry());
      }
      offset += record.sizeBytes();
    }
  }

  /**
   * Encodes {@code entries} into the write buffer (no fsync; see {@link #sync}). Their indexes must
   * continue {@link #lastIndex()} + 1 without gaps; an empty log starts at the first one given.
   *
   * @throws IllegalStateException if the indexes do not continue the log (a programmer error)
   * @throws IllegalArgumentException if a record is larger than {@link LogRecord#PAYLOAD_BYTES_MAX}
   */
  public void append(List<LogEntry> entries) throws IOException {
    checkWritable();
    if (entries.isEmpty()) {
      return;
    }
    checkAppendable(entries);
    try {
      for (LogEntry entry : entries) {
        appendOne(entry);
      }
    } catch (IOException | RuntimeException e) {
      markFailed(e);
      throw e;
    }
  }

  private void checkAppendable(List<LogEntry> entries) {
    long expected = active == null ? entries.get(0).getIndex() : active.lastIndex() + 1;
    if (expected < 1) {
      throw new IllegalStateException("indexes start at 1, got " + expected);
    }
    for (LogEntry entry : entries) {
      if (entry.getIndex() != expected) {
        throw new IllegalStateException(
            "append of index " + entry.getIndex() + " to a log that expects index " + expected);
      }
      if (entry.getSerializedSize() > LogRecord.PAYLOAD_BYTES_MAX) {
        throw new IllegalArgumentException(
            "log entry "
                + entry.getIndex()
                + " is "
                + entry.getSerializedSize()
                + " bytes, more than the "
                + LogRecord.PAYLOAD_BYTES_MAX
                + " a log record can hold");
      }
      expected++;
    }
  }

  private void appendOne(LogEntry entry) throws IOException {
    if (active == null
        || active.sizeBytes() >= segmentBytesMax
        || active.formatVersion() != LogSegment.FORMAT_VERSION) {
      roll(entry.getIndex()); // starts a group, as the first record of the new segment
    } else if (file == null) {
      file = disk.openForWrite(active.path(), active.sizeBytes());
      // Again after a restart: recovery may have cut a torn write off the end of the file.
      file.preallocate(segmentBytesMax);
    }
    if (!unsynced) {
      groupStart = entry.getIndex();
    }
    int payloadBytes = entry.getSerializedSize();
    int recordBytes = LogRecord.HEADER_BYTES + payloadBytes;
    if (buffer.remaining() < recordBytes) {
      flushBuffer();
      if (buffer.capacity() < recordBytes) {
        buffer = ByteBuffer.allocateDirect(recordBytes);
      }
    }
    LogRecord.encode(entry, payloadBytes, groupStart, buffer, crc);
    active.recordAppended(entry.getIndex(), recordBytes);
    unsynced = true;
  }

  /**
   * Finishes the current segment and starts one whose first record is {@code firstIndex}. The
   * finished segment is synced first, so that at most one segment (the last) ever holds unsynced
   * bytes: that is what lets recovery treat damage anywhere else as corruption. (A segment of an
   * older format, finished because records are appended only in the current one, was synced when
   * the log was opened.)
   */
  private void roll(long firstIndex) throws IOException {
    if (file != null) {
      flushBuffer();
      file.force();
      file.close();
      file = null;
    }
    Path path = dir.resolve(LogSegment.fileName(firstIndex));
    file = disk.create(path);
    disk.fsyncDirectory(dir);
    // A crash from here until the first group is synced leaves a file of zeros (no header), which
    // recovery removes.
    file.preallocate(segmentBytesMax);
    // The header goes out with the segment's first records, as part of their group; a crash
    // before they are synced leaves a torn header, which recovery removes.
    LogSegment.writeHeader(buffer, firstIndex);
    groupStart = firstIndex;
    active = LogSegment.created(path, firstIndex);
    synchronized (segmentsLock) {
      segments.add(active);
    }
    unsynced = true;
  }

  /** Makes everything appended so far durable: one write of the buffer, one fsync. */
  public void sync() throws IOException {
    checkWritable();
    if (!unsynced) {
      return;
    }
    try {
      flushBuffer();
      file.force();
      unsynced = false;
    } catch (IOException | RuntimeException e) {
      markFailed(e);
      throw e;
    }
  }

  private void flushBuffer() throws IOException {
    buffer.flip();
    try {
      if (buffer.hasRemaining()) {
        file.write(buffer);
      }
    } finally {
      buffer.compact();
    }
  }

  /**
   * Deletes the segments all of whose records have indexes below {@code index}, oldest first. Never
   * deletes the segment being appended to. Safe to call while another thread appends.
   */
  public void truncateBefore(long index) throws IOException {
    List<LogSegment> doomed = new ArrayList<>();
    synchronized (segmentsLock) {
      while (segments.size() > 1 && segments.get(0).lastIndex() < index) {
        doomed.add(segments.remove(0));
      }
    }
    for (LogSegment segment : doomed) {
      disk.deleteIfExists(segment.path());
      // One directory fsync per file, oldest first: a crash then leaves a contiguous suffix of
      // the log, never a gap that recovery would have to call corruption.
      disk.fsyncDirectory(dir);
    }
  }

  /** Syncs whatever was appended and closes the file. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      if (failure == null) {
        sync();
      }
    } finally {
      closed = true;
      if (file != null) {
        file.close();
      }
    }
  }

  private List<LogSegment> segmentsSnapshot() {
    synchronized (segmentsLock) {
      return new ArrayList<>(segments);
    }
  }

  private void checkWritable() throws IOException {
    if (failure != null) {
      throw new IOException("write-ahead log in " + dir + " failed earlier; restart", failure);
    }
    if (closed) {
      throw new IOException("write-ahead log in " + dir + " is closed");
    }
  }

  private void markFailed(Exception e) {
    failure = e instanceof IOException io ? io : new IOException(e);
  }
}
