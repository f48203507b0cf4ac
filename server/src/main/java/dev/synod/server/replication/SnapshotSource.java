package dev.synod.server.replication;

import com.google.protobuf.UnsafeByteOperations;
import dev.synod.peer.v1.SnapshotIdentity;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.server.storage.Disk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

/**
 * The leader's side of a snapshot transfer: which of its snapshot files to send, and their bytes.
 * A follower copies the file as it is on disk (MapDB, format 3: the nodes already in checksummed
 * chunks), so the leader never builds the tree, nor even parses the file, to send it; the
 * follower verifies its copy as a load does. Files are immutable once they have their final name,
 * so a file's identity (slot, size, CRC32C of all its bytes) is computed once and cached.
 *
 * <p>Thread-safe: transfers to several followers may share it.
 */
public final class SnapshotSource {
  /** Bytes per piece: large enough that per-message costs vanish, well under message limits. */
  static final int PIECE_BYTES = 1 << 20;
  /** Bytes a call carries when the follower asks for no particular window. */
  static final long WINDOW_BYTES_DEFAULT = 64L << 20;
  /** The most a call carries, whatever the follower asks: it then asks again, from there. */
  static final long WINDOW_BYTES_MAX = 1L << 30;
  /** Bytes read from the file at once when summing it. */
  static final int SUM_BLOCK_BYTES = 1 << 20;
  /** Identities remembered (the store keeps two snapshots; a third covers one being replaced). */
  static final int IDENTITIES_CACHED = 3;

  /** The leader's snapshot files. */
  public interface Files {
    /** The snapshot files on disk, by slot. */
    SortedMap<Long, Path> list() throws IOException;

    /**
     * Writes a snapshot of the current state (none on disk covers {@code minSlot}: this server
     * became leader with an older compaction point than the one a follower was told about).
     *
     * @throws IllegalStateException if this server cannot give one now (it applied less)
     */
    void writeCovering(long minSlot) throws IOException, InterruptedException;

    /**
     * Verifies the snapshot file at {@code slot} as a load does; if it fails, sets it aside (as a
     * start would) so that it is never sent again, and returns true.
     */
    boolean setAsideIfDamaged(long slot) throws IOException;
  }

  /** A file chosen for a transfer call, and where the call starts in it. */
  record Opened(SnapshotIdentity identity, Path file, long offset) {}

  private final Disk disk;
  private final Files files;
  /** Path and size to identity, oldest first. Guarded by itself. */
  private final Map<String, SnapshotIdentity> identities = new LinkedHashMap<>();

  public SnapshotSource(Disk disk, Files files) {
    this.disk = disk;
    this.files = files;
  }

  /**
   * The file to send for a request: the one {@code resume} names, from {@code offset}, if this
   * server still has exactly that file (and it covers {@code minSlot}); else the newest file
   * (which must cover {@code minSlot}, or one is written first), from offset 0.
   *
   * @param resume null if the follower holds no part of a snapshot
   * @param rejected null, or a file whose whole copy failed the follower's verification: if it is
   *     damaged here, it is set aside and a new snapshot written in its place
   * @throws IllegalArgumentException if {@code offset} lies beyond the resumed file's end
   * @throws IllegalStateException if no snapshot covering {@code minSlot} can be had now
   */
  Opened open(long minSlot, SnapshotIdentity resume, long offset, SnapshotIdentity rejected)
      throws IOException, InterruptedException {
    SortedMap<Long, Path> all = files.list();
    if (rejected != null && all.containsKey(rejected.getSlot())
        && identityOf(rejected.getSlot(), all.get(rejected.getSlot())).equals(rejected)
        && files.setAsideIfDamaged(rejected.getSlot())) {
      forget(all.get(rejected.getSlot()));
      files.writeCovering(Math.max(minSlot, rejected.getSlot()));
      all = files.list();
      resume = null;
    }
    if (resume != null && resume.getSlot() >= minSlot && all.containsKey(resume.getSlot())) {
      Path file = all.get(resume.getSlot());
      SnapshotIdentity id = identityOf(resume.getSlot(), file);
      if (id.equals(resume)) {
        if (offset > id.getSizeBytes()) {
          throw new IllegalArgumentException("offset: " + offset + " lies beyond the end of the snapshot"
              + " at slot " + id.getSlot() + " (" + id.getSizeBytes() + " bytes)");
        }
        return new Opened(id, file, offset);
      }
    }
    if (all.isEmpty() || all.lastKey() < minSlot) {
      files.writeCovering(minSlot);
      all = files.list();
      if (all.isEmpty() || all.lastKey() < minSlot) {
        throw new IllegalStateException("no snapshot covering slot " + minSlot + " on this server");
      }
    }
    long slot = all.lastKey();
    return new Opened(identityOf(slot, all.get(slot)), all.get(slot), 0);
  }

  /** Where a call for {@code requestedBytes} (0: the default) that starts at {@code o} ends. */
  static long windowEnd(Opened o, long requestedBytes) {
    long window = requestedBytes == 0 ? WINDOW_BYTES_DEFAULT : Math.min(requestedBytes, WINDOW_BYTES_MAX);
    return o.offset() + Math.min(window, o.identity().getSizeBytes() - o.offset());
  }

  /**
   * The piece of {@code o}'s file from {@code offset}: at most {@link #PIECE_BYTES}, and not past
   * {@code end}, stamped with the sender's {@code clusterId}.
   *
   * @throws IOException if the file cannot be read, or has been deleted (a newer snapshot pruned
   *     it): the follower's next call then starts over with the newest
   */
  SnapshotPiece piece(Opened o, long offset, long end, long clusterId) throws IOException {
    ByteBuffer bytes = disk.read(o.file(), offset, (int) Math.min(PIECE_BYTES, end - offset));
    if (!bytes.hasRemaining()) {
      throw new IOException("the snapshot file ends at byte " + offset + " of " + o.identity().getSizeBytes());
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    return SnapshotPiece.newBuilder().setSnapshot(o.identity()).setOffset(offset)
        .setData(UnsafeByteOperations.unsafeWrap(bytes)).setCrc32C((int) crc.getValue())
        .setClusterId(clusterId).build();
  }

  /**
   * This server as a follower's leader without a network between them: each call is served at
   * once, on the caller's thread, by the same choice of file and the same pieces as over gRPC.
   * For the whole-server simulator, which puts its own faults in between.
   *
   * @param clusterId this server's cluster id when a call starts (0: not known yet)
   */
  public SnapshotDownload.Leader direct(LongSupplier clusterId) {
    return request -> {
      Opened o;
      try {
        o = open(request.getMinSlot(), request.hasResume() ? request.getResume() : null, request.getOffset(),
            request.hasRejected() ? request.getRejected() : null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      long end = windowEnd(o, request.getWindowBytes());
      long sender = clusterId.getAsLong();
      return new SnapshotDownload.Window() {
        private long next = o.offset();

        @Override
        public boolean hasNext() {
          return next < end;
        }

        @Override
        public SnapshotPiece next() {
          try {
            SnapshotPiece p = piece(o, next, end, sender);
            next += p.getData().size();
            return p;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }

        @Override
        public void close() {}
      };
    };
  }

  /** Drops what is remembered of {@code file} (it was set aside). */
  private void forget(Path file) {
    String prefix = file + "@";
    synchronized (identities) {
      identities.keySet().removeIf(key -> key.startsWith(prefix));
    }
  }

  /** The identity of the snapshot file {@code file} at {@code slot}: summed on first use. */
  SnapshotIdentity identityOf(long slot, Path file) throws IOException {
    long size = disk.size(file);
    String key = file + "@" + size;
    synchronized (identities) {
      SnapshotIdentity known = identities.get(key);
      if (known != null) {
        return known;
      }
    }
    CRC32C crc = new CRC32C();
    for (long at = 0; at < size; ) {
      ByteBuffer block = disk.read(file, at, (int) Math.min(SUM_BLOCK_BYTES, size - at));
      if (!block.hasRemaining()) {
        throw new IOException("snapshot " + file + " ended at byte " + at + " of " + size);
      }
      at += block.remaining();
      crc.update(block);
    }
    SnapshotIdentity id = SnapshotIdentity.newBuilder().setSlot(slot).setSizeBytes(size)
        .setCrc32C((int) crc.getValue()).build();
    synchronized (identities) {
      identities.put(key, id);
      while (identities.size() > IDENTITIES_CACHED) {
        identities.remove(identities.keySet().iterator().next());
      }
    }
    return id;
  }
}
