package dev.synod.server.replication;

import dev.synod.peer.v1.SnapshotIdentity;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Disk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.function.LongFunction;
import java.util.zip.CRC32C;

/**
 * The follower's side of a snapshot transfer: copies the leader's snapshot file to this server's
 * disk window by window, each piece checked (offset, CRC32C) and written as it arrives, so the
 * snapshot is never in memory as a whole, and the whole file checked against the CRC32C in its
 * identity at the end. The copy is then the caller's to install (it is verified again, as a load
 * verifies, by the store).
 *
 * <p>A call that breaks (a lost connection, a leader that stops sending) is resumed from the last
 * offset made durable, as long as the leader still has the same file; if it sends another one
 * (it wrote a newer snapshot and pruned this one, or another member leads now) the copy starts
 * over. What was copied survives a failed fetch: the next fetch resumes it.
 *
 * <p>Not thread-safe: one fetch at a time (the runner's background thread).
 */
public final class SnapshotDownload {
  /** What has been written is made durable at least this often, and at the end of each call. */
  static final long SYNC_EVERY_BYTES = 32L << 20;
  /** Calls in a row that may break without copying a byte before the fetch gives up. */
  static final int FRUITLESS_CALLS_MAX = 3;
  /** Bytes read at once when summing the part already on disk, after a break. */
  static final int SUM_BLOCK_BYTES = 1 << 20;

  /** The leader's end: one call per window. */
  @FunctionalInterface
  public interface Leader {
    /** Starts a call; its pieces come in order; next() or hasNext() throw if it breaks. */
    Window read(SnapshotReadRequest request);
  }

  /** The pieces of one call. Closing it before its end cancels the call. */
  public interface Window extends Iterator<SnapshotPiece>, AutoCloseable {
    @Override
    void close();
  }

  /** A whole, checked copy of the file {@code identity} names, sent by a member of {@code clusterId}. */
  public record Done(SnapshotIdentity identity, long clusterId) {}

  /** The leader or the copy failed (not this server's disk): fetch again later. */
  public static final class TransferException extends Exception {
    private static final long serialVersionUID = 1L;

    TransferException(String message, Throwable cause) {
      super(message, cause);
    }

    TransferException(String message) {
      super(message);
    }
  }

  private final Disk disk;
  private final LongFunction<Path> incomingFile;
  private final long windowBytes;

  /** The file being copied (null: none), where it goes, and how much of it is durable there. */
  private SnapshotIdentity identity;
  private Path file;
  private long durableBytes;
  /** The CRC32C of the first {@link #summedBytes} of the copy. */
  private CRC32C crc = new CRC32C();
  private long summedBytes;
  /** The sender's cluster id, as its pieces said (0: not known). */
  private long senderCluster;
  private long bytesReceived;
  /** A file whose whole copy failed verification: the next calls name it to the leader. */
  private SnapshotIdentity rejected;
  /** Set by another thread to end a fetch in progress (the server is stopping). */
  private volatile boolean stopped;

  /**
   * @param incomingFile where the copy of the snapshot at a slot is written
   * @param windowBytes bytes asked for per call (0: the leader's default)
   */
  public SnapshotDownload(Disk disk, LongFunction<Path> incomingFile, long windowBytes) {
    this.disk = disk;
    this.incomingFile = incomingFile;
    this.windowBytes = windowBytes;
  }

  /**
   * The whole copy of {@code id} this download fetched failed verification when it was installed
   * (its pieces and its sum were right, so the leader's file itself may be damaged): the next
   * fetch tells the leader, which then checks its file and sends a new snapshot if it is damaged.
   * Without this a damaged file on the leader would be fetched again and again, and a follower
   * that needs a snapshot would never catch up.
   */
  public void rejected(SnapshotIdentity id) {
    rejected = id;
  }

  /** Ends the fetch in progress at its next piece, and every fetch after. Any thread. */
  void stop() {
    stopped = true;
  }

  /** Bytes of the copy in progress that are durable (0: none in progress). */
  public long durableBytes() {
    return durableBytes;
  }

  /** Bytes received over every call so far (resumed ranges count again). */
  long bytesReceived() {
    return bytesReceived;
  }

  /**
   * Copies the leader's snapshot covering {@code minSlot}, resuming the copy in progress if the
   * leader still has its file. On success the copy is complete and durable at {@code
   * incomingFile(done.identity().getSlot())}, and this download holds no copy any more.
   *
   * @param clusterId this server's cluster id (0: not known yet); another cluster's snapshot is
   *     refused
   * @throws TransferException if the leader breaks off too often, sends a damaged piece or file,
   *     or a snapshot of another cluster or of too low a slot: what was copied and made durable
   *     stays for the next fetch
   * @throws IOException if this server's disk fails
   */
  public Done fetch(Leader leader, long minSlot, long clusterId) throws TransferException, IOException {
    int fruitless = 0;
    while (true) {
      checkStopped();
      long before = bytesReceived;
      try {
        if (window(leader, minSlot, clusterId)) {
          return finish();
        }
        fruitless = 0;
      } catch (RuntimeException e) {
        // The call broke. Resume from what is durable: the rest may be lost with a crash.
        fruitless = bytesReceived > before ? 0 : fruitless + 1;
        if (fruitless >= FRUITLESS_CALLS_MAX) {
          throw new TransferException("the snapshot transfer broke off " + fruitless
              + " times in a row without progress; last: " + e, e);
        }
      }
    }
  }

  /**
   * One call: asks for a window from the durable end of the copy and writes what comes.
   *
   * @return whether the copy is now complete
   */
  private boolean window(Leader leader, long minSlot, long clusterId) throws TransferException, IOException {
    SnapshotReadRequest.Builder request = SnapshotReadRequest.newBuilder().setMinSlot(minSlot)
        .setClusterId(clusterId).setWindowBytes(windowBytes);
    if (identity != null) {
      request.setResume(identity).setOffset(durableBytes);
    }
    if (rejected != null) {
      request.setRejected(rejected);
    }
    long written = durableBytes;
    long start = written;
    Disk.DiskFile out = null;
    try (Window pieces = leader.read(request.build())) {
      while (pieces.hasNext()) {
        SnapshotPiece piece = pieces.next();
        checkStopped();
        checkCluster(piece.getClusterId(), clusterId);
        if (!piece.getSnapshot().equals(identity)) {
          if (piece.getOffset() != 0) {
            throw new TransferException("the leader sent bytes from offset " + piece.getOffset()
                + " of a snapshot (slot " + piece.getSnapshot().getSlot() + ") it never started");
          }
          if (piece.getSnapshot().getSlot() < minSlot) {
            throw new TransferException("the leader's snapshot covers slot " + piece.getSnapshot().getSlot()
                + ", not " + minSlot);
          }
          closeFile(out);
          out = startOver(piece.getSnapshot());
          written = 0;
          start = -1; // a new file: progress whatever its length
        } else if (out == null) {
          out = resumeAt(written);
        }
        if (piece.getOffset() != written) {
          throw new TransferException("the leader sent bytes from offset " + piece.getOffset()
              + " where " + written + " was due");
        }
        ByteBuffer data = piece.getData().asReadOnlyByteBuffer();
        if (written + data.remaining() > identity.getSizeBytes()) {
          throw new TransferException("the leader sent bytes past the end of the snapshot at slot "
              + identity.getSlot() + " (" + identity.getSizeBytes() + " bytes)");
        }
        CRC32C pieceCrc = new CRC32C();
        pieceCrc.update(data.duplicate());
        if ((int) pieceCrc.getValue() != piece.getCrc32C()) {
          throw new TransferException("corrupt snapshot piece: bytes " + written + " to "
              + (written + data.remaining()) + " of the snapshot at slot " + identity.getSlot()
              + " fail their CRC32C; the piece is refused");
        }
        bytesReceived += data.remaining();
        crc.update(data.duplicate());
        out.write(data);
        written += piece.getData().size();
        summedBytes = written;
        if (written - durableBytes >= SYNC_EVERY_BYTES) {
          out.force();
          durableBytes = written;
        }
      }
      if (out != null) {
        out.force();
        durableBytes = written;
      }
    } finally {
      closeFile(out);
    }
    if (identity == null || written == start) {
      throw new TransferException("the leader ended a call without sending any of its snapshot"
          + (identity == null ? "" : " (" + written + " of " + identity.getSizeBytes() + " bytes copied)"));
    }
    return durableBytes == identity.getSizeBytes();
  }

  private void checkStopped() throws TransferException {
    if (stopped) {
      throw new TransferException("the server is stopping");
    }
  }

  private void checkCluster(long theirs, long ours) throws TransferException {
    if (ReplicaEvent.isForeign(theirs, ours)) {
      throw new TransferException("the snapshot is of cluster " + ClusterIdentity.text(theirs)
          + ", this server belongs to cluster " + ClusterIdentity.text(ours));
    }
    if (theirs != 0) {
      senderCluster = theirs;
    }
  }

  /** Drops the copy in progress and starts one of {@code id}. */
  private Disk.DiskFile startOver(SnapshotIdentity id) throws IOException {
    discard();
    identity = id;
    file = incomingFile.apply(id.getSlot());
    disk.deleteIfExists(file); // left by an earlier copy of the same slot
    return disk.create(file);
  }

  /** Reopens the copy at {@code offset} (its durable end), cutting what was written after it. */
  private Disk.DiskFile resumeAt(long offset) throws IOException {
    disk.truncate(file, offset);
    if (summedBytes != offset) {
      crc = new CRC32C();
      for (long at = 0; at < offset; ) {
        ByteBuffer block = disk.read(file, at, (int) Math.min(SUM_BLOCK_BYTES, offset - at));
        if (!block.hasRemaining()) {
          throw new IOException("the snapshot copy " + file + " ends at byte " + at + " of " + offset);
        }
        at += block.remaining();
        crc.update(block);
      }
      summedBytes = offset;
    }
    return disk.openForWrite(file, offset);
  }

  /** The copy is whole and durable: its sum must be the identity's. */
  private Done finish() throws TransferException, IOException {
    SnapshotIdentity id = identity;
    if ((int) crc.getValue() != id.getCrc32C()) {
      discard();
      throw new TransferException("the copy of the snapshot at slot " + id.getSlot()
          + " does not match the leader's checksum; starting over");
    }
    Done done = new Done(id, senderCluster);
    rejected = null; // said; the caller names it again if this copy fails too
    identity = null; // the file is the caller's now
    file = null;
    reset();
    return done;
  }

  /** Forgets the copy in progress and deletes its file. */
  void discard() throws IOException {
    if (file != null) {
      disk.deleteIfExists(file);
    }
    identity = null;
    file = null;
    reset();
  }

  private void reset() {
    durableBytes = 0;
    summedBytes = 0;
    crc = new CRC32C();
  }

  private static void closeFile(Disk.DiskFile out) throws IOException {
    if (out != null) {
      out.close();
    }
  }
}
