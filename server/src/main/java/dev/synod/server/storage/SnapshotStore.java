package dev.synod.server.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Data-tree snapshots, one {@link SnapshotFile} per snapshot, named by zxid. A snapshot file is
 * never changed once it has its final name: each one is written to a temp file, synced, and renamed
 * into place, so a crash at any step leaves either the old set of snapshots or the new. The newest
 * {@value #SNAPSHOTS_KEPT} are kept, so a damaged newest one can fall back to the one before it.
 */
public final class SnapshotStore {
  static final int SNAPSHOTS_KEPT = 2;

  // Fault points, in the order write() reaches them.
  static final String TMP_WRITTEN = "snapshot.tmp-written";
  static final String TMP_SYNCED = "snapshot.tmp-synced";
  static final String RENAMED = "snapshot.renamed";
  static final String DIR_SYNCED = "snapshot.dir-synced";
  static final String PRUNED = "snapshot.pruned";

  private final Path dir;
  private final FaultInjector faults;

  /** Opens the store in {@code dir}, removing temp files left by a write that crashed. */
  public SnapshotStore(Path dir, FaultInjector faults) throws IOException {
    this.dir = dir;
    this.faults = faults;
    Files.createDirectories(dir);
    deleteLeftoverTempFiles();
  }

  private void deleteLeftoverTempFiles() throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path file : (Iterable<Path>) entries::iterator) {
        if (file.getFileName().toString().endsWith(SnapshotFile.TMP_SUFFIX)) {
          Files.delete(file);
        }
      }
    }
  }

  /**
   * Writes {@code snapshot} as the newest snapshot and deletes all but the newest {@value
   * #SNAPSHOTS_KEPT}. Steps: write temp file, fsync it, rename it into place, fsync the directory,
   * prune; {@link FaultInjector#at} is called after each.
   *
   * @throws IllegalArgumentException if a newer snapshot already exists
   */
  public synchronized void write(Snapshot snapshot) throws IOException {
    List<Long> existing = zxids();
    if (!existing.isEmpty() && existing.get(0) > snapshot.zxid()) {
      throw new IllegalArgumentException(
          "snapshot at zxid " + snapshot.zxid() + " is older than the newest, " + existing.get(0));
    }
    Path tmp = dir.resolve(SnapshotFile.tmpFileName(snapshot.zxid()));
    Path target = dir.resolve(SnapshotFile.fileName(snapshot.zxid()));
    Files.deleteIfExists(tmp);
    SnapshotFile.write(tmp, snapshot);
    faults.at(TMP_WRITTEN);
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    faults.at(TMP_SYNCED);
    // Replaces a snapshot of the same zxid, which holds the same state.
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    faults.at(RENAMED);
    DataDir.fsyncDirectory(dir);
    faults.at(DIR_SYNCED);
    prune();
    faults.at(PRUNED);
  }

  /** Deletes snapshots older than the newest {@value #SNAPSHOTS_KEPT}. */
  private void prune() throws IOException {
    // No directory fsync: an old snapshot that reappears after a crash is harmless, and the next
    // write prunes it again.
    List<Long> all = zxids();
    for (long zxid : all.subList(Math.min(SNAPSHOTS_KEPT, all.size()), all.size())) {
      Files.deleteIfExists(dir.resolve(SnapshotFile.fileName(zxid)));
    }
  }

  /**
   * Loads the newest snapshot that reads back and verifies, warning about any newer one that does
   * not.
   *
   * @return empty if there are no snapshots at all
   * @throws CorruptSnapshotException if there are snapshots but none of them is valid
   */
  public Optional<Snapshot> loadLatest() throws IOException {
    List<Long> all = zxids();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      long zxid = all.get(i);
      try {
        return Optional.of(SnapshotFile.read(dir.resolve(SnapshotFile.fileName(zxid)), zxid));
      } catch (IOException e) {
        problems.add(e.getMessage());
        if (i + 1 < all.size()) {
          StorageWarnings.warn(
              e.getMessage() + "; falling back to the snapshot at zxid " + all.get(i + 1));
        }
      }
    }
    if (!all.isEmpty()) {
      throw new CorruptSnapshotException(
          "none of the "
              + all.size()
              + " snapshots in "
              + dir.toAbsolutePath()
              + " is valid ("
              + String.join("; ", problems)
              + "); Synod refuses to start rather than serve wrong"
              + " data");
    }
    return Optional.empty();
  }

  /** The zxids of the snapshot files present (valid or not), newest first. */
  public List<Long> zxids() throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .mapToLong(SnapshotFile::zxidOf)
          .filter(zxid -> zxid >= 0)
          .boxed()
          .sorted(Comparator.reverseOrder())
          .toList();
    }
  }
}
