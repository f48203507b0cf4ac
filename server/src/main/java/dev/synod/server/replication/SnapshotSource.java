package dev.synod.server.replication;

import dev.synod.peer.v1.SnapshotIdentity;
import dev.synod.server.storage.Disk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
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
final class SnapshotSource {
  /** Bytes read from the file at once when summing it. */
  static final int SUM_BLOCK_BYTES = 1 << 20;
  /** Identities remembered (the store keeps two snapshots; a third covers one being replaced). */
  static final int IDENTITIES_CACHED = 3;

  /** The leader's snapshot files. */
  interface Files {
    /** The snapshot files on disk, by slot. */
    SortedMap<Long, Path> list() throws IOException;

    /**
     * Writes a snapshot of the current state (none on disk covers {@code minSlot}: this server
     * became leader with an older compaction point than the one a follower was told about).
     *
     * @throws IllegalStateException if this server cannot give one now (it applied less)
     */
    void writeCovering(long minSlot) throws IOException, InterruptedException;
  }

  /** A file chosen for a transfer call, and where the call starts in it. */
  record Opened(SnapshotIdentity identity, Path file, long offset) {}

  private final Disk disk;
  private final Files files;
  /** Path and size to identity, oldest first. Guarded by itself. */
  private final Map<String, SnapshotIdentity> identities = new LinkedHashMap<>();

  SnapshotSource(Disk disk, Files files) {
    this.disk = disk;
    this.files = files;
  }

  /**
   * The file to send for a request: the one {@code resume} names, from {@code offset}, if this
   * server still has exactly that file (and it covers {@code minSlot}); else the newest file
   * (which must cover {@code minSlot}, or one is written first), from offset 0.
   *
   * @param resume null if the follower holds no part of a snapshot
   * @throws IllegalArgumentException if {@code offset} lies beyond the resumed file's end
   * @throws IllegalStateException if no snapshot covering {@code minSlot} can be had now
   */
  Opened open(long minSlot, SnapshotIdentity resume, long offset)
      throws IOException, InterruptedException {
    SortedMap<Long, Path> all = files.list();
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

  /**
   * At most {@code lengthBytes} of {@code file} from {@code position} (fewer at its end).
   *
   * @throws IOException if the file cannot be read, or has been deleted (a newer snapshot pruned
   *     it): the follower's next call then starts over with the newest
   */
  ByteBuffer read(Path file, long position, int lengthBytes) throws IOException {
    return disk.read(file, position, lengthBytes);
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
