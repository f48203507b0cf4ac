package dev.synod.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A server's data directory: {@code log/} for the write-ahead log, {@code snapshots/} for state
 * snapshots, and {@code LOCK}, which this process holds an exclusive lock on for as long as the
 * directory is open, so that two servers can never write the same files.
 */
public final class DataDir implements Closeable {
  static final String LOG_DIR = "log";
  static final String SNAPSHOT_DIR = "snapshots";
  static final String LOCK_FILE = "LOCK";

  private final Path root;
  private final Closeable lock;

  private DataDir(Path root, Closeable lock) {
    this.root = root;
    this.lock = lock;
  }

  /** Opens {@code root} on the real file system (see {@link #open(Path, Disk)}). */
  public static DataDir open(Path root) throws IOException {
    return open(root, Disk.REAL);
  }

  /**
   * Creates the layout under {@code root} on {@code disk} if missing and locks it.
   *
   * @throws IOException if the directory cannot be created, or another Synod process (or another
   *     open {@code DataDir} in this JVM) holds it
   */
  public static DataDir open(Path root, Disk disk) throws IOException {
    disk.createDirectories(root.resolve(LOG_DIR));
    disk.createDirectories(root.resolve(SNAPSHOT_DIR));
    disk.fsyncDirectory(root);
    Closeable lock = disk.tryLock(root.resolve(LOCK_FILE));
    if (lock == null) {
      throw new IOException(
          "data directory " + root.toAbsolutePath() + " is in use by another Synod process");
    }
    return new DataDir(root, lock);
  }

  public Path root() {
    return root;
  }

  public Path logDir() {
    return root.resolve(LOG_DIR);
  }

  public Path snapshotDir() {
    return root.resolve(SNAPSHOT_DIR);
  }

  /** Releases the lock; the directory may then be opened again. */
  @Override
  public void close() throws IOException {
    lock.close();
  }
}
