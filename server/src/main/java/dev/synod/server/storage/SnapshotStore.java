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
 * Data-tree snapshots, one {@link SnapshotFile} per snapshot, named by slot. A snapshot file is
 * never changed once it has its final name: each one is written to a temp file, synced, and renamed
 * into place, so a crash at any step leaves either the old set of snapshots or the new. The newest
 * {@value #SNAPSHOTS_KEPT} by slot are kept, so a damaged newest one can fall back to the one
 * before it.
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
   * prune; {@link FaultInjector#at} is called after each. A snapshot of the same slot is replaced.
   *
   * @throws IllegalArgumentException if a snapshot of a higher slot already exists
   */
  public synchronized void write(Snapshot snapshot) throws IOException {
    List<Long> existing = slots();
    if (!existing.isEmpty() && existing.get(0) > snapshot.slot()) {
      throw new IllegalArgumentException(
          "snapshot at slot "
              + snapshot.slot()
              + " is older than the newest, at slot "
              + existing.get(0));
    }
    writeAndPrune(snapshot);
  }

  /**
   * Writes {@code snapshot} whatever its slot (one received from another server), with the same
   * steps as {@link #write}, then keeps the newest {@value #SNAPSHOTS_KEPT} by slot: one older than
   * both kept snapshots is written and at once pruned again.
   */
  public synchronized void install(Snapshot snapshot) throws IOException {
    writeAndPrune(snapshot);
  }

  private void writeAndPrune(Snapshot snapshot) throws IOException {
    Path tmp = dir.resolve(SnapshotFile.tmpFileName(snapshot.slot()));
    Path target = dir.resolve(SnapshotFile.fileName(snapshot.slot()));
    Files.deleteIfExists(tmp);
    SnapshotFile.write(tmp, snapshot);
    faults.at(TMP_WRITTEN);
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    faults.at(TMP_SYNCED);
    // Replaces a snapshot of the same slot, which holds the same state.
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
    List<Long> all = slots();
    for (long slot : all.subList(Math.min(SNAPSHOTS_KEPT, all.size()), all.size())) {
      Files.deleteIfExists(dir.resolve(SnapshotFile.fileName(slot)));
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
    List<Long> all = slots();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      long slot = all.get(i);
      try {
        return Optional.of(SnapshotFile.read(dir.resolve(SnapshotFile.fileName(slot)), slot));
      } catch (IOException e) {
        problems.add(e.getMessage());
        if (i + 1 < all.size()) {
          StorageWarnings.warn(
              e.getMessage() + "; falling back to the snapshot at slot " + all.get(i + 1));
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

  /** The slots of the snapshot files present (valid or not), newest first. */
  public List<Long> slots() throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .mapToLong(SnapshotFile::slotOf)
          .filter(slot -> slot >= 0)
          .boxed()
          .sorted(Comparator.reverseOrder())
          .toList();
    }
  }
}
