package dev.synod.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * A server's data directory: {@code log/} for the write-ahead log, {@code snapshots/} for state
 * snapshots, {@code CLUSTER} for the cluster it belongs to ({@link ClusterIdentity}), and
 * {@code LOCK}, which this process holds an exclusive lock on for as long as the directory is
 * open, so that two servers can never write the same files.
 */
public final class DataDir implements Closeable {
  static final String LOG_DIR = "log";
  static final String SNAPSHOT_DIR = "snapshots";
  static final String LOCK_FILE = "LOCK";
  static final String CLUSTER_FILE = "CLUSTER";

  private final Path root;
  private final Disk disk;
  private final Closeable lock;

  private DataDir(Path root, Disk disk, Closeable lock) {
    this.root = root;
    this.disk = disk;
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
    return new DataDir(root, disk, lock);
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

  /**
   * The cluster this directory belongs to, or empty if it was never recorded (a directory created
   * now, or by a version before cluster identities).
   *
   * @throws CorruptLogException if the file exists but cannot be understood: guessing could join
   *     the wrong cluster or found a new one
   */
  public Optional<ClusterIdentity> readIdentity() throws IOException {
    Path file = root.resolve(CLUSTER_FILE);
    if (!disk.list(root).contains(file)) {
      return Optional.empty();
    }
    ByteBuffer bytes = disk.read(file, (int) Math.min(Integer.MAX_VALUE, disk.size(file)));
    Properties p = new Properties();
    try (Reader reader = new StringReader(StandardCharsets.UTF_8.decode(bytes).toString())) {
      p.load(reader);
    }
    try {
      return Optional.of(ClusterIdentity.parse(p));
    } catch (IllegalArgumentException e) {
      throw new CorruptLogException(file.toAbsolutePath() + ": " + e.getMessage());
    }
  }

  /** Records the cluster this directory belongs to, durably and atomically (write, fsync, rename). */
  public void writeIdentity(ClusterIdentity identity) throws IOException {
    Path tmp = root.resolve(CLUSTER_FILE + ".tmp");
    disk.deleteIfExists(tmp); // left by a crash during an earlier attempt
    try (Disk.DiskFile out = disk.create(tmp)) {
      out.write(ByteBuffer.wrap(identity.format().getBytes(StandardCharsets.UTF_8)));
      out.force();
    }
    disk.moveAtomically(tmp, root.resolve(CLUSTER_FILE));
    disk.fsyncDirectory(root);
  }

  /** Releases the lock; the directory may then be opened again. */
  @Override
  public void close() throws IOException {
    lock.close();
  }
}
