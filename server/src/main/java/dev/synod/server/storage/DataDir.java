package dev.synod.server.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
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

  // Windows cannot open a directory as a file, so it cannot fsync one; NTFS makes a rename or
  // create durable with the file's own metadata instead.
  private static final boolean DIRECTORY_FSYNC_UNSUPPORTED =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  private final Path root;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private DataDir(Path root, FileChannel lockChannel, FileLock lock) {
    this.root = root;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Creates the layout under {@code root} if missing and locks it.
   *
   * @throws IOException if the directory cannot be created, or another Synod process (or another
   *     open {@code DataDir} in this JVM) holds it
   */
  public static DataDir open(Path root) throws IOException {
    Files.createDirectories(root.resolve(LOG_DIR));
    Files.createDirectories(root.resolve(SNAPSHOT_DIR));
    fsyncDirectory(root);
    FileChannel channel =
        FileChannel.open(
            root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      // tryLock returns null when another process holds the lock, and throws
      // OverlappingFileLockException when this JVM does: both mean "in use".
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException(
          "data directory " + root.toAbsolutePath() + " is in use by another Synod process");
    }
    return new DataDir(root, channel, lock);
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
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
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
    Files.writeString(tmp, identity.format(), StandardCharsets.UTF_8);
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(tmp, root.resolve(CLUSTER_FILE), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(root);
  }

  /** Releases the lock; the directory may then be opened again. */
  @Override
  public void close() throws IOException {
    try {
      if (lock.isValid()) {
        lock.release();
      }
    } finally {
      lockChannel.close();
    }
  }

  /**
   * Makes the creation, rename or deletion of entries in {@code dir} durable: on Linux a new file
   * whose own data was fsynced can still vanish in a crash until its directory is fsynced too.
   */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (AccessDeniedException e) {
      // The one failure that is expected: Windows refuses to open a directory. Anywhere else it
      // is a real permission problem and must stop the server.
      if (!DIRECTORY_FSYNC_UNSUPPORTED) {
        throw e;
      }
    }
  }
}
