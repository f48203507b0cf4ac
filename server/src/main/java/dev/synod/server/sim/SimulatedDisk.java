package dev.synod.server.sim;

import dev.synod.server.storage.Disk;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.mapdb.volume.Volume;

/**
 * An in-memory {@link Disk} that models what a crash does to unsynced data, for the whole-server
 * simulator (each member's real stores run on one) and the storage tests: file content written
 * since its last fsync is a set of dirty 4 KiB pages (or sectors of them, see {@link SimInode}),
 * of which a {@link #crash} keeps a random subset (so a multi-page write is torn and its pages land
 * out of order), and the file size may or may not have reached the disk;
 * directory entries created, renamed or deleted since the directory's last fsync survive as a
 * random prefix of those operations. A preallocated file ({@link DiskFile#preallocate}) is longer
 * than its data: its pages of zeros are where a crash tears the writes that land in them. {@link
 * #crashAtFsync} crashes in the middle of an operation
 * (before its n-th fsync), and {@link #failFsyncs} makes every fsync fail. After a crash, files
 * opened before it refuse all use, as the process that had them is gone. {@link #damage} spoils a
 * sector of a file for good, as a bad sector does.
 *
 * <p>Deterministic: every random choice comes from the seed, and nothing depends on hashing order
 * or on the real file system, so a seed replays the same crashes.
 *
 * <p>Paths are only names here: nothing touches the real file system. Not thread-safe beyond what
 * the stores need: every method is synchronized.
 */
public final class SimulatedDisk implements Disk {
  public static final int PAGE_BYTES = 4096;
  /** A disk sector: what {@link #damage} spoils, and the smallest unit a crash keeps or loses. */
  public static final int SECTOR_BYTES = 512;

  private final Random random;
  private final int unitBytes;
  private final Set<Path> directories = new HashSet<>();

  /** The files the running process sees. */
  private final Map<Path, SimInode> visible = new HashMap<>();

  /** The directory entries a crash would leave (before the pending operations). */
  private final Map<Path, SimInode> durable = new HashMap<>();

  /** Per directory, entry operations not yet made durable by an fsync of the directory. */
  private final Map<Path, List<Consumer<Map<Path, SimInode>>>> pending = new HashMap<>();

  private final Set<Path> locked = new HashSet<>();
  private int epoch; // +1 per crash: handles of an earlier epoch are dead
  private boolean fsyncFails;
  private int fsyncsUntilCrash; // 0: no crash planned
  private boolean plannedCrashKillsOnlyTheProcess;
  private int crashes;

  /** A disk that writes whole pages atomically: a power loss keeps or loses each page. */
  public SimulatedDisk(long seed) {
    this(seed, PAGE_BYTES);
  }

  /**
   * A disk whose atomic unit is {@code unitBytes} (a divisor of {@value #PAGE_BYTES}, such as
   * {@value #SECTOR_BYTES}): a power loss keeps or loses each unit of a page on its own.
   */
  public SimulatedDisk(long seed, int unitBytes) {
    this.random = new Random(seed);
    this.unitBytes = SimInode.checkUnit(unitBytes);
  }

  /**
   * Kills the "process": every unsynced page of every file is kept or lost at random (a file's size
   * update too), each directory keeps a random prefix of its unsynced entry operations, and all
   * open files and locks are gone.
   */
  public synchronized void crash() {
    crashes++;
    epoch++;
    locked.clear();
    for (Map.Entry<Path, List<Consumer<Map<Path, SimInode>>>> dir :
        new TreeMap<>(pending).entrySet()) {
      List<Consumer<Map<Path, SimInode>>> ops = dir.getValue();
      int kept = random.nextInt(ops.size() + 1);
      ops.subList(0, kept).forEach(op -> op.accept(durable));
    }
    pending.clear();
    // In path order, so that a seed replays the same crash.
    Set<SimInode> inodes = new LinkedHashSet<>(new TreeMap<>(durable).values());
    inodes.addAll(new TreeMap<>(visible).values());
    for (SimInode inode : inodes) {
      inode.crash(random);
    }
    visible.clear();
    visible.putAll(durable);
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  /**
   * The {@code n}-th fsync from now (of a file or a directory, 1 for the next) crashes the machine
   * instead (see {@link #crash}) and throws; 0 cancels a planned crash.
   */
  public synchronized void crashAtFsync(int n) {
    planCrash(n, false);
  }

  /** As {@link #crashAtFsync}, but only the process dies (see {@link #kill}). */
  public synchronized void killAtFsync(int n) {
    planCrash(n, true);
  }

  private void planCrash(int n, boolean processOnly) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0: " + n);
    }
    fsyncsUntilCrash = n;
    plannedCrashKillsOnlyTheProcess = processOnly;
  }

  /**
   * Kills the "process" only, as SIGKILL does: the machine goes on, so what was written but not
   * synced stays in the page cache, visible to the next process, and may still be torn by a later
   * {@link #crash}. Open files and locks are gone.
   */
  public synchronized void kill() {
    crashes++;
    epoch++;
    locked.clear();
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  /** From now on (until the next crash) every fsync fails, as on a failing device. */
  public synchronized void failFsyncs() {
    fsyncFails = true;
  }

  /** Cancels the faults to come: a planned crash, and fsyncs that fail. */
  public synchronized void cancelFaults() {
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  public synchronized int crashes() {
    return crashes;
  }

  /** The bytes the running process would read from {@code file}. */
  public synchronized byte[] content(Path file) throws IOException {
    SimInode inode = inode(file);
    return inode.read(0, Math.toIntExact(inode.length()));
  }

  /**
   * Spoils {@code file} as a bad sector does: one {@value #SECTOR_BYTES}-byte sector that holds
   * data (a non-zero byte), chosen at random, reads back as garbage from now on, crash or not.
   *
   * @return whether a sector was spoiled (false if the file holds no data at all)
   */
  public synchronized boolean damage(Path file) throws IOException {
    SimInode inode = inode(file);
    List<Long> sectors = inode.sectorsWithData(SECTOR_BYTES);
    if (sectors.isEmpty()) {
      return false;
    }
    byte[] garbage = new byte[SECTOR_BYTES];
    long sector = sectors.get(random.nextInt(sectors.size()));
    random.nextBytes(garbage);
    inode.spoil(sector * SECTOR_BYTES, garbage);
    return true;
  }

  @Override
  public synchronized void createDirectories(Path dir) {
    for (Path p = dir; p != null; p = p.getParent()) {
      directories.add(p);
    }
  }

  @Override
  public synchronized List<Path> list(Path dir) throws IOException {
    if (!directories.contains(dir)) {
      throw new IOException("no such directory: " + dir);
    }
    List<Path> entries = new ArrayList<>();
    for (Path file : visible.keySet()) {
      if (dir.equals(file.getParent())) {
        entries.add(file);
      }
    }
    for (Path d : directories) {
      if (dir.equals(d.getParent())) {
        entries.add(d);
      }
    }
    entries.sort(null);
    return entries;
  }

  @Override
  public synchronized long size(Path file) throws IOException {
    return inode(file).length();
  }

  @Override
  public synchronized ByteBuffer read(Path file, int lengthBytes) throws IOException {
    SimInode inode = inode(file);
    return ByteBuffer.wrap(inode.read(0, (int) Math.min(lengthBytes, inode.length())));
  }

  @Override
  public synchronized ByteBuffer read(Path file, long position, int lengthBytes) throws IOException {
    SimInode inode = inode(file);
    long available = Math.max(0, inode.length() - position);
    return ByteBuffer.wrap(inode.read(position, (int) Math.min(lengthBytes, available)));
  }

  @Override
  public synchronized DiskFile create(Path file) throws IOException {
    checkParent(file);
    if (visible.containsKey(file)) {
      throw new IOException("exists: " + file);
    }
    SimInode inode = new SimInode(unitBytes);
    visible.put(file, inode);
    pendingOp(file.getParent(), d -> d.put(file, inode));
    return new SimFile(inode, 0, epoch);
  }

  @Override
  public synchronized DiskFile openForWrite(Path file, long position) throws IOException {
    return new SimFile(inode(file), position, epoch);
  }

  @Override
  public synchronized void truncate(Path file, long sizeBytes) throws IOException {
    SimInode inode = inode(file);
    inode.truncate(sizeBytes);
    forceInode(inode);
  }

  @Override
  public synchronized void fsync(Path file) throws IOException {
    forceInode(inode(file));
  }

  @Override
  public synchronized void fsyncDirectory(Path dir) throws IOException {
    checkFsync();
    List<Consumer<Map<Path, SimInode>>> ops = pending.remove(dir);
    if (ops != null) {
      ops.forEach(op -> op.accept(durable));
    }
  }

  @Override
  public synchronized void deleteIfExists(Path file) {
    if (visible.remove(file) != null) {
      pendingOp(file.getParent(), d -> d.remove(file));
    }
  }

  @Override
  public synchronized void moveAtomically(Path from, Path to) throws IOException {
    SimInode inode = inode(from);
    visible.remove(from);
    visible.put(to, inode);
    pendingOp(
        from.getParent(),
        d -> {
          SimInode moved = d.remove(from);
          if (moved != null) {
            d.put(to, moved);
          }
        });
  }

  @Override
  public synchronized Closeable tryLock(Path lockFile) {
    if (!locked.add(lockFile)) {
      return null;
    }
    int lockEpoch = epoch;
    return () -> {
      synchronized (SimulatedDisk.this) {
        if (epoch == lockEpoch) {
          locked.remove(lockFile);
        }
      }
    };
  }

  @Override
  public synchronized Volume openVolume(Path file, boolean readOnly) throws IOException {
    if (readOnly) {
      SimInode inode = inode(file);
      return SimVolume.readOnly(inode.pages(), inode.length());
    }
    if (!visible.containsKey(file)) {
      create(file).close();
    }
    SimInode inode = inode(file);
    int volumeEpoch = epoch;
    // What MapDB wrote becomes the file's (unsynced) content when it closes the volume, unless the
    // process died meanwhile.
    return SimVolume.writable((pages, length) -> {
      synchronized (SimulatedDisk.this) {
        if (epoch == volumeEpoch) {
          inode.replace(pages, length);
        }
      }
    });
  }

  private SimInode inode(Path file) throws IOException {
    SimInode inode = visible.get(file);
    if (inode == null) {
      throw new IOException("no such file: " + file);
    }
    return inode;
  }

  private void checkParent(Path file) throws IOException {
    if (!directories.contains(file.getParent())) {
      throw new IOException("no such directory: " + file.getParent());
    }
  }

  private void pendingOp(Path dir, Consumer<Map<Path, SimInode>> op) {
    pending.computeIfAbsent(dir, d -> new ArrayList<>()).add(op);
  }

  private void checkFsync() throws IOException {
    if (fsyncsUntilCrash > 0 && --fsyncsUntilCrash == 0) {
      if (plannedCrashKillsOnlyTheProcess) {
        kill();
      } else {
        crash();
      }
      throw new IOException("simulated crash");
    }
    if (fsyncFails) {
      throw new IOException("simulated fsync failure");
    }
  }

  private void forceInode(SimInode inode) throws IOException {
    checkFsync();
    inode.force();
  }

  private void checkEpoch(int handleEpoch) throws IOException {
    if (handleEpoch != epoch) {
      throw new IOException("the process that opened this file has crashed");
    }
  }

  private final class SimFile implements DiskFile {
    private final SimInode inode;
    private final int fileEpoch;
    private long position;

    SimFile(SimInode inode, long position, int fileEpoch) {
      this.inode = inode;
      this.position = position;
      this.fileEpoch = fileEpoch;
    }

    @Override
    public void write(ByteBuffer bytes) throws IOException {
      synchronized (SimulatedDisk.this) {
        checkEpoch(fileEpoch);
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        inode.write(position, copy, 0, copy.length);
        position += copy.length;
      }
    }

    @Override
    public void force() throws IOException {
      synchronized (SimulatedDisk.this) {
        checkEpoch(fileEpoch);
        forceInode(inode);
      }
    }

    /** Extends the file with zeros (pages of zeros cost nothing here) and fsyncs it. */
    @Override
    public void preallocate(long sizeBytes) throws IOException {
      synchronized (SimulatedDisk.this) {
        checkEpoch(fileEpoch);
        if (inode.length() >= sizeBytes) {
          return;
        }
        inode.truncate(sizeBytes);
        forceInode(inode);
      }
    }

    @Override
    public void close() {}
  }
}
