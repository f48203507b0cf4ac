package dev.synod.server.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Data-tree snapshots, one {@link SnapshotFile} per snapshot, named by slot. A snapshot file is
 * never changed once it has its final name: each one is written to a temp file, synced, and renamed
 * into place, so a crash at any step leaves either the old set of snapshots or the new. The newest
 * {@value #SNAPSHOTS_KEPT} by slot are kept, so a damaged newest one can fall back to the one
 * before it; the damaged one is then set aside (renamed to {@code ...db.damaged}), so that it
 * neither stands in the way of the snapshots that follow nor takes the place of a valid one.
 *
 * <p>Only a snapshot newer than every one on disk is written: one that is not (a server's own
 * snapshot that finished after a newer one arrived from the leader, say) would add nothing, and
 * writing it is a no-op that says so.
 */
public final class SnapshotStore {
  static final int SNAPSHOTS_KEPT = 2;

  // Fault points, in the order write() reaches them.
  static final String TMP_WRITTEN = "snapshot.tmp-written";
  static final String TMP_SYNCED = "snapshot.tmp-synced";
  static final String RENAMED = "snapshot.renamed";
  static final String DIR_SYNCED = "snapshot.dir-synced";
  static final String PRUNED = "snapshot.pruned";

  /** Names a snapshot being received, ahead of the temp file name of its slot. */
  private static final String INCOMING_PREFIX = "incoming-";

  private final Disk disk;
  private final Path dir;
  private final FaultInjector faults;

  /** Opens the store in {@code dir} of the real file system. */
  public SnapshotStore(Path dir, FaultInjector faults) throws IOException {
    this(Disk.REAL, dir, faults);
  }

  /** Opens the store in {@code dir} on {@code disk}, removing temp files left by a crash. */
  public SnapshotStore(Disk disk, Path dir, FaultInjector faults) throws IOException {
    this.disk = disk;
    this.dir = dir;
    this.faults = faults;
    disk.createDirectories(dir);
    deleteLeftoverTempFiles();
  }

  private void deleteLeftoverTempFiles() throws IOException {
    for (Path file : disk.list(dir)) {
      if (file.getFileName().toString().endsWith(SnapshotFile.TMP_SUFFIX)) {
        disk.deleteIfExists(file);
      }
    }
  }

  /**
   * Writes {@code snapshot} as the newest snapshot, if it is newer (by slot) than every snapshot on
   * disk, and deletes all but the newest {@value #SNAPSHOTS_KEPT}. Steps: write temp file, fsync
   * it, rename it into place, fsync the directory, prune; {@link FaultInjector#at} is called after
   * each. Used alike for a server's own snapshots and for those received from another server.
   *
   * @return false, having done nothing, if a snapshot of the same or a higher slot exists: it holds
   *     the same state or a newer one
   */
  public synchronized boolean write(Snapshot snapshot) throws IOException {
    List<Long> existing = slots();
    if (!existing.isEmpty() && existing.get(0) >= snapshot.slot()) {
      return false;
    }
    Path tmp = dir.resolve(SnapshotFile.tmpFileName(snapshot.slot()));
    Path target = fileOf(snapshot.slot());
    disk.deleteIfExists(tmp);
    SnapshotFile.write(disk, tmp, snapshot);
    faults.at(TMP_WRITTEN);
    disk.fsync(tmp);
    faults.at(TMP_SYNCED);
    disk.moveAtomically(tmp, target);
    faults.at(RENAMED);
    disk.fsyncDirectory(dir);
    faults.at(DIR_SYNCED);
    prune();
    faults.at(PRUNED);
    return true;
  }

  /**
   * Where a snapshot received from another server is assembled before {@link #installReceived}: a
   * temp file, so a start deletes what a crash left of it.
   */
  public Path incomingFile(long slot) {
    return dir.resolve(INCOMING_PREFIX + SnapshotFile.tmpFileName(slot));
  }

  /**
   * Installs {@code incoming}, a whole copy of another server's snapshot file at {@code slot} that
   * the caller wrote on this store's disk: verifies it as a load does (format, slot, counts,
   * checksum), fsyncs it, renames it into place, fsyncs the directory and prunes, reaching the
   * same fault points as {@link #write}. It is then the newest snapshot.
   *
   * @return the snapshot as loaded from the file; empty, having deleted {@code incoming}, if a
   *     snapshot of the same or a higher slot is already stored
   * @throws CorruptSnapshotException if the file fails verification (it is deleted): the copy, not
   *     this disk, is bad, so the caller may fetch again
   * @throws IOException if the disk fails
   */
  public synchronized Optional<Snapshot> installReceived(Path incoming, long slot)
      throws IOException {
    List<Long> existing = slots();
    if (!existing.isEmpty() && existing.get(0) >= slot) {
      disk.deleteIfExists(incoming);
      return Optional.empty();
    }
    Snapshot snapshot;
    try {
      snapshot = SnapshotFile.read(disk, incoming, slot);
    } catch (IOException e) {
      disk.deleteIfExists(incoming);
      throw new CorruptSnapshotException("the snapshot received for slot " + slot + " fails "
          + "verification: " + e.getMessage());
    }
    faults.at(TMP_WRITTEN);
    disk.fsync(incoming);
    faults.at(TMP_SYNCED);
    disk.moveAtomically(incoming, fileOf(slot));
    faults.at(RENAMED);
    disk.fsyncDirectory(dir);
    faults.at(DIR_SYNCED);
    prune();
    faults.at(PRUNED);
    return Optional.of(snapshot);
  }

  /** Deletes snapshots older than the newest {@value #SNAPSHOTS_KEPT}. */
  private void prune() throws IOException {
    // No directory fsync: an old snapshot that reappears after a crash is harmless, and the next
    // write prunes it again.
    List<Long> all = slots();
    for (long slot : all.subList(Math.min(SNAPSHOTS_KEPT, all.size()), all.size())) {
      disk.deleteIfExists(fileOf(slot));
    }
  }

  /**
   * Loads the newest snapshot that reads back and verifies. Each newer one that does not is renamed
   * aside (to {@code ...db.damaged}, with a warning), so that the snapshot loaded is the newest on
   * disk.
   *
   * @return empty if there are no snapshots at all
   * @throws CorruptSnapshotException if there are snapshots but none of them is valid (then none is
   *     renamed)
   */
  public synchronized Optional<Snapshot> loadLatest() throws IOException {
    List<Long> all = slots();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      long slot = all.get(i);
      Snapshot snapshot;
      try {
        snapshot = SnapshotFile.read(disk, fileOf(slot), slot);
      } catch (IOException e) {
        problems.add(e.getMessage());
        if (i + 1 < all.size()) {
          StorageWarnings.warn(
              e.getMessage()
                  + "; falling back to the snapshot at slot "
                  + all.get(i + 1)
                  + " and keeping this one aside as "
                  + SnapshotFile.fileName(slot)
                  + SnapshotFile.DAMAGED_SUFFIX);
        }
        continue;
      }
      setAside(all.subList(0, i));
      return Optional.of(snapshot);
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

  /**
   * Verifies the snapshot at {@code slot} as a load does; if it fails, renames it aside (to
   * {@code ...db.damaged}, with a warning) and returns true. False if it verifies or is not here.
   */
  public synchronized boolean setAsideIfDamaged(long slot) throws IOException {
    if (!slots().contains(slot)) {
      return false;
    }
    try {
      SnapshotFile.read(disk, fileOf(slot), slot);
      return false;
    } catch (IOException e) {
      StorageWarnings.warn(e.getMessage() + "; a follower's copy of it failed verification too:"
          + " keeping it aside as " + SnapshotFile.fileName(slot) + SnapshotFile.DAMAGED_SUFFIX
          + " and sending a new snapshot instead");
      setAside(List.of(slot));
      return true;
    }
  }

  /** Renames the snapshots of {@code slots}, which failed verification, out of the store. */
  private void setAside(List<Long> slots) throws IOException {
    if (slots.isEmpty()) {
      return;
    }
    for (long slot : slots) {
      Path file = fileOf(slot);
      disk.moveAtomically(file, dir.resolve(file.getFileName() + SnapshotFile.DAMAGED_SUFFIX));
    }
    // Durable before a newer snapshot can be written and prune the one just loaded.
    disk.fsyncDirectory(dir);
  }

  /** The file that holds (or would hold) the snapshot at {@code slot}. */
  public Path fileOf(long slot) {
    return dir.resolve(SnapshotFile.fileName(slot));
  }

  /** The slots of the snapshot files present (valid or not), newest first. */
  public List<Long> slots() throws IOException {
    return disk.list(dir).stream()
        .mapToLong(SnapshotFile::slotOf)
        .filter(slot -> slot >= 0)
        .boxed()
        .sorted(Comparator.reverseOrder())
        .toList();
  }
}
