package dev.synod.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.mapdb.volume.Volume;

/**
 * Every file-system operation of the storage package, and nothing more: the seam where a simulator
 * substitutes a disk that loses unsynced writes, tears and reorders multi-page writes, and fails
 * fsync, while the real stores run on top. Production uses {@link #REAL}, plain java.nio.
 *
 * <p>What the stores rely on, and what a simulated disk must model to be faithful:
 *
 * <ul>
 *   <li>Bytes written to a {@link DiskFile} are durable only once {@link DiskFile#force} returns;
 *       before that, a crash may keep any subset of the pages written, in any order. Bytes of a
 *       file that were never written read as zeros (past a {@link DiskFile#preallocate}, say).
 *   <li>Creating, renaming or deleting a directory entry is durable only once {@link
 *       #fsyncDirectory} of that directory returns.
 *   <li>{@link #truncate} and {@link #fsync} are durable when they return.
 *   <li>An IOException from any method means the stores' view of the disk can no longer be trusted:
 *       they stop (a failed fsync may have dropped the dirty pages it was to write).
 * </ul>
 */
public interface Disk {
  /** The real file system, through java.nio. */
  Disk REAL = new NioDisk();

  /** Creates {@code dir} and its missing parents (not durable until their parents are synced). */
  void createDirectories(Path dir) throws IOException;

  /** The entries of {@code dir}, each resolved against it, in no particular order. */
  List<Path> list(Path dir) throws IOException;

  long size(Path file) throws IOException;

  /**
   * Reads the first {@code lengthBytes} of {@code file} into a new heap buffer, flipped; its limit
   * is less than {@code lengthBytes} if the file is shorter.
   */
  ByteBuffer read(Path file, int lengthBytes) throws IOException;

  /**
   * Reads at most {@code lengthBytes} of {@code file} from {@code position} into a new heap
   * buffer, flipped; its limit is less than {@code lengthBytes} if the file ends first.
   */
  ByteBuffer read(Path file, long position, int lengthBytes) throws IOException;

  /** Creates {@code file}, which must not exist, and opens it for writing from offset 0. */
  DiskFile create(Path file) throws IOException;

  /** Opens the existing {@code file} for writing from {@code position} on. */
  DiskFile openForWrite(Path file, long position) throws IOException;

  /** Cuts {@code file} to {@code sizeBytes} and makes that durable. */
  void truncate(Path file, long sizeBytes) throws IOException;

  /** Makes the content of {@code file} durable (as {@link DiskFile#force}). */
  void fsync(Path file) throws IOException;

  /** Makes the creations, renames and deletions of entries in {@code dir} durable. */
  void fsyncDirectory(Path dir) throws IOException;

  /** Deletes {@code file} if it exists (durable after {@link #fsyncDirectory}). */
  void deleteIfExists(Path file) throws IOException;

  /**
   * Renames {@code from} to {@code to} atomically, replacing {@code to} if it exists (durable after
   * {@link #fsyncDirectory}).
   */
  void moveAtomically(Path from, Path to) throws IOException;

  /**
   * Takes an exclusive lock on {@code lockFile} (created if missing), held until the result is
   * closed.
   *
   * @return the lock, or null if another process (or another holder in this one) has it
   */
  Closeable tryLock(Path lockFile) throws IOException;

  /**
   * Opens {@code file} as a MapDB volume (for snapshot files): created if missing unless {@code
   * readOnly}. Closing the volume does not make it durable; {@link #fsync} does.
   */
  Volume openVolume(Path file, boolean readOnly) throws IOException;

  /** A file open for writing at a position that each write advances. */
  interface DiskFile extends Closeable {
    /** Writes all of {@code bytes}' remaining bytes at the position (not yet durable). */
    void write(ByteBuffer bytes) throws IOException;

    /**
     * Makes everything written so far durable. Cheapest (an fdatasync that writes data only) when
     * the writes since the last force stayed within a size made durable before: see {@link
     * #preallocate}.
     */
    void force() throws IOException;

    /**
     * Extends the file with zeros to {@code sizeBytes} if it is shorter, and makes everything
     * written so far and the new size durable (nothing happens if it is that long already). The
     * position does not move. Writes within that size then change no metadata, so forcing them
     * writes the data alone. A crash before this returns may leave the file at its old size or
     * the new one.
     */
    void preallocate(long sizeBytes) throws IOException;
  }
}
