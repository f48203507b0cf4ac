package dev.synod.server.storage;

import dev.synod.txn.v1.Txn;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The durable, segmented, append-only log of {@link Txn}s, in zxid order with no gaps.
 *
 * <p>Threads: {@link #append}, {@link #sync}, {@link #replay} and {@link #close} belong to one
 * thread (the commit thread; replay runs during recovery, before appends start). {@link
 * #truncateBefore} may run on another thread at the same time; it and the append path share only
 * the segment list, under a lock held for list updates, never for I/O. The zxid and size getters
 * may be called from any thread.
 *
 * <p>Group commit: {@code append} only encodes records into a direct buffer; {@code sync} writes
 * the buffer with one write call and fsyncs once, however many records the batch has.
 *
 * <p>Failures: any I/O error leaves the log in an unknown state (after a failed fsync the kernel
 * may have dropped the dirty pages), so the log refuses all further writes; the caller must stop.
 */
public final class TxnLog implements Closeable {
  public static final long SEGMENT_BYTES_MAX_DEFAULT = 64L << 20;

  /** Upper bound for {@code segmentBytesMax}: recovery reads one whole segment into memory. */
  static final long SEGMENT_BYTES_LIMIT = 1L << 30;

  /** Enough for a batch of thousands of small Txns in one write call; grows for a huge Txn. */
  private static final int WRITE_BUFFER_BYTES = 4 << 20;

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
  private FileChannel channel; // the last segment's, opened on the first append
  private boolean unsynced;
  private IOException failure;
  private boolean closed;

  private TxnLog(Path dir, long segmentBytesMax, List<LogSegment> segments) {
    this.dir = dir;
    this.segmentBytesMax = segmentBytesMax;
    this.segments = segments;
    this.active = segments.isEmpty() ? null : segments.get(segments.size() - 1);
  }

  /** Opens the log in {@code logDir} with {@link #SEGMENT_BYTES_MAX_DEFAULT}. */
  public static TxnLog open(Path logDir) throws IOException {
    return open(logDir, SEGMENT_BYTES_MAX_DEFAULT);
  }

  /**
   * Opens (or creates) the log in {@code logDir}, validating every segment and cutting off a torn
   * tail left by a crash.
   *
   * @param segmentBytesMax a segment is closed and a new one started once it reaches this size
   * @throws CorruptLogException if the log is damaged in a way a crash cannot explain
   */
  public static TxnLog open(Path logDir, long segmentBytesMax) throws IOException {
    if (segmentBytesMax <= LogSegment.HEADER_BYTES || segmentBytesMax > SEGMENT_BYTES_LIMIT) {
      throw new IllegalArgumentException(
          "segmentBytesMax must be in ("
              + LogSegment.HEADER_BYTES
              + ", "
              + SEGMENT_BYTES_LIMIT
              + "]: "
              + segmentBytesMax);
    }
    Files.createDirectories(logDir);
    return new TxnLog(logDir, segmentBytesMax, new ArrayList<>(LogRecovery.recover(logDir)));
  }

  /** The first zxid the log holds (its oldest segment's start), or 0 if it has no segments. */
  public long firstZxid() {
    synchronized (segmentsLock) {
      return segments.isEmpty() ? 0 : segments.get(0).firstZxid();
    }
  }

  /**
   * The zxid of the last appended record, or 0 for a log with no segments. A log whose segments
   * hold no records (all truncated but the newest, which was only just started) returns one less
   * than its first zxid, so the next append still has to continue where the log left off.
   */
  public long lastZxid() {
    synchronized (segmentsLock) {
      return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).lastZxid();
    }
  }

  /** Bytes on disk, counting appended records not yet synced. */
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
   * Feeds {@code sink}, in order, every record with a zxid above {@code afterZxid}.
   *
   * @throws CorruptLogException if the log starts after {@code afterZxid + 1} (transactions are
   *     missing), or a record no longer reads back as it did when the log was opened
   */
  public void replay(long afterZxid, Consumer<Txn> sink) throws IOException {
    checkWritable();
    flushBuffer(); // so that the files hold everything appended so far
    List<LogSegment> toRead = segmentsSnapshot();
    if (toRead.isEmpty()) {
      return;
    }
    long first = toRead.get(0).firstZxid();
    if (afterZxid + 1 < first) {
      throw new CorruptLogException(
          "transaction log in "
              + dir.toAbsolutePath()
              + " starts at zxid "
              + first
              + " but the snapshot is at zxid "
              + afterZxid
              + ": the transactions in between are"
              + " missing; Synod refuses to start rather than serve wrong data");
    }
    for (LogSegment segment : toRead) {
      if (segment.lastZxid() > afterZxid) {
        replaySegment(segment, afterZxid, sink);
      }
    }
  }

  private void replaySegment(LogSegment segment, long afterZxid, Consumer<Txn> sink)
      throws IOException {
    ByteBuffer bytes = LogSegment.read(segment.path(), segment.sizeBytes());
    int offset = LogSegment.HEADER_BYTES;
    for (long zxid = segment.firstZxid(); zxid <= segment.lastZxid(); zxid++) {
      LogRecord.Decoded record = LogRecord.decode(bytes, offset, crc);
      if (record == null || record.txn().getZxid() != zxid) {
        throw CorruptLogException.at(
            segment.path(),
            offset,
            zxid - 1,
            "record for zxid " + zxid + " no longer reads back (damaged since the log was opened)");
      }
      if (zxid > afterZxid) {
        sink.accept(record.txn());
      }
      offset += record.sizeBytes();
    }
  }

  /**
   * Encodes {@code txns} into the write buffer (no fsync; see {@link #sync}). Their zxids must
   * continue {@link #lastZxid()} + 1 without gaps; an empty log starts at the first one given.
   *
   * @throws IllegalStateException if the zxids do not continue the log (a programmer error)
   * @throws IllegalArgumentException if a Txn is larger than {@link LogRecord#PAYLOAD_BYTES_MAX}
   */
  public void append(List<Txn> txns) throws IOException {
    checkWritable();
    if (txns.isEmpty()) {
      return;
    }
    checkAppendable(txns);
    try {
      for (Txn txn : txns) {
        appendOne(txn);
      }
    } catch (IOException | RuntimeException e) {
      markFailed(e);
      throw e;
    }
  }

  private void checkAppendable(List<Txn> txns) {
    long expected = active == null ? txns.get(0).getZxid() : active.lastZxid() + 1;
    if (expected < 1) {
      throw new IllegalStateException("zxids start at 1, got " + expected);
    }
    for (Txn txn : txns) {
      if (txn.getZxid() != expected) {
        throw new IllegalStateException(
            "append of zxid " + txn.getZxid() + " to a log that expects zxid " + expected);
      }
      if (txn.getSerializedSize() > LogRecord.PAYLOAD_BYTES_MAX) {
        throw new IllegalArgumentException(
            "Txn "
                + txn.getZxid()
                + " is "
                + txn.getSerializedSize()
                + " bytes, more than the "
                + LogRecord.PAYLOAD_BYTES_MAX
                + " a log record can hold");
      }
      expected++;
    }
  }

  private void appendOne(Txn txn) throws IOException {
    if (active == null || active.sizeBytes() >= segmentBytesMax) {
      roll(txn.getZxid());
    } else if (channel == null) {
      channel = FileChannel.open(active.path(), StandardOpenOption.WRITE);
      channel.position(active.sizeBytes());
    }
    int payloadBytes = txn.getSerializedSize();
    int recordBytes = LogRecord.HEADER_BYTES + payloadBytes;
    if (buffer.remaining() < recordBytes) {
      flushBuffer();
      if (buffer.capacity() < recordBytes) {
        buffer = ByteBuffer.allocateDirect(recordBytes);
      }
    }
    LogRecord.encode(txn, payloadBytes, buffer, crc);
    active.recordAppended(txn.getZxid(), recordBytes);
    unsynced = true;
  }

  /**
   * Finishes the current segment and starts one whose first record is {@code firstZxid}. The
   * finished segment is synced first, so that at most one segment (the last) ever holds unsynced
   * bytes: that is what lets recovery treat damage anywhere else as corruption.
   */
  private void roll(long firstZxid) throws IOException {
    if (channel != null) {
      flushBuffer();
      channel.force(false);
      channel.close();
      channel = null;
    }
    Path path = dir.resolve(LogSegment.fileName(firstZxid));
    channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    DataDir.fsyncDirectory(dir);
    // The header goes out with the segment's first records; a crash before they are synced
    // leaves a short header, which recovery removes.
    LogSegment.writeHeader(buffer, firstZxid);
    active = LogSegment.created(path, firstZxid);
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
      channel.force(false);
      unsynced = false;
    } catch (IOException | RuntimeException e) {
      markFailed(e);
      throw e;
    }
  }

  private void flushBuffer() throws IOException {
    buffer.flip();
    try {
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    } finally {
      buffer.compact();
    }
  }

  /**
   * Deletes the segments all of whose records have zxids below {@code zxid}, oldest first. Never
   * deletes the segment being appended to. Safe to call while another thread appends.
   */
  public void truncateBefore(long zxid) throws IOException {
    List<LogSegment> doomed = new ArrayList<>();
    synchronized (segmentsLock) {
      while (segments.size() > 1 && segments.get(0).lastZxid() < zxid) {
        doomed.add(segments.remove(0));
      }
    }
    for (LogSegment segment : doomed) {
      Files.deleteIfExists(segment.path());
      // One directory fsync per file, oldest first: a crash then leaves a contiguous suffix of
      // the log, never a gap that recovery would have to call corruption.
      DataDir.fsyncDirectory(dir);
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
      if (channel != null) {
        channel.close();
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
      throw new IOException("transaction log in " + dir + " failed earlier; restart", failure);
    }
    if (closed) {
      throw new IOException("transaction log in " + dir + " is closed");
    }
  }

  private void markFailed(Exception e) {
    failure = e instanceof IOException io ? io : new IOException(e);
  }
}
