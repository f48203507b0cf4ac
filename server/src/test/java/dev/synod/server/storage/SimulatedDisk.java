package dev.synod.server.storage;

import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.mapdb.DataInput2;
import org.mapdb.volume.ByteArrayVol;
import org.mapdb.volume.SingleByteArrayVol;
import org.mapdb.volume.Volume;

/**
 * An in-memory {@link Disk} that models what a crash does to unsynced data, for tests (and a
 * starting point for a whole-server simulator): file content written since its last fsync is a set
 * of dirty 4 KiB pages, of which a {@link #crash} keeps a random subset (so a multi-page write is
 * torn and its pages land out of order), and the file size may or may not have reached the disk;
 * directory entries created, renamed or deleted since the directory's last fsync survive as a
 * random prefix of those operations. {@link #crashAtFsync} crashes in the middle of an operation
 * (before its n-th fsync), and {@link #failFsyncs} makes every fsync fail. After a crash, files
 * opened before it refuse all use, as the process that had them is gone.
 *
 * <p>Paths are only names here: nothing touches the real file system. Not thread-safe beyond what
 * the stores need: every method is synchronized.
 */
final class SimulatedDisk implements Disk {
  static final int PAGE_BYTES = 4096;

  private final Random random;
  private final Set<Path> directories = new HashSet<>();

  /** The files the running process sees. */
  private final Map<Path, Inode> visible = new HashMap<>();

  /** The directory entries a crash would leave (before the pending operations). */
  private final Map<Path, Inode> durable = new HashMap<>();

  /** Per directory, entry operations not yet made durable by an fsync of the directory. */
  private final Map<Path, List<Consumer<Map<Path, Inode>>>> pending = new HashMap<>();

  private final Set<Path> locked = new HashSet<>();
  private int epoch; // +1 per crash: handles of an earlier epoch are dead
  private boolean fsyncFails;
  private int fsyncsUntilCrash; // 0: no crash planned
  private boolean plannedCrashKillsOnlyTheProcess;
  private int crashes;

  SimulatedDisk(long seed) {
    this.random = new Random(seed);
  }

  /**
   * Kills the "process": every unsynced page of every file is kept or lost at random (a file's size
   * update too), each directory keeps a random prefix of its unsynced entry operations, and all
   * open files and locks are gone.
   */
  synchronized void crash() {
    crashes++;
    epoch++;
    locked.clear();
    for (Map.Entry<Path, List<Consumer<Map<Path, Inode>>>> dir :
        new TreeMap<>(pending).entrySet()) {
      List<Consumer<Map<Path, Inode>>> ops = dir.getValue();
      int kept = random.nextInt(ops.size() + 1);
      ops.subList(0, kept).forEach(op -> op.accept(durable));
    }
    pending.clear();
    // In path order, so that a seed replays the same crash.
    Set<Inode> inodes = new LinkedHashSet<>(new TreeMap<>(durable).values());
    inodes.addAll(new TreeMap<>(visible).values());
    for (Inode inode : inodes) {
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
  synchronized void crashAtFsync(int n) {
    planCrash(n, false);
  }

  /** As {@link #crashAtFsync}, but only the process dies (see {@link #kill}). */
  synchronized void killAtFsync(int n) {
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
  synchronized void kill() {
    crashes++;
    epoch++;
    locked.clear();
    fsyncFails = false;
    fsyncsUntilCrash = 0;
  }

  /** From now on (until the next crash) every fsync fails, as on a failing device. */
  synchronized void failFsyncs() {
    fsyncFails = true;
  }

  synchronized int crashes() {
    return crashes;
  }

  /** The bytes the running process would read from {@code file}. */
  synchronized byte[] content(Path file) throws IOException {
    return inode(file).current.clone();
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
    return inode(file).current.length;
  }

  @Override
  public synchronized ByteBuffer read(Path file, int lengthBytes) throws IOException {
    byte[] current = inode(file).current;
    return ByteBuffer.wrap(Arrays.copyOf(current, Math.min(lengthBytes, current.length)));
  }

  @Override
  public synchronized DiskFile create(Path file) throws IOException {
    checkParent(file);
    if (visible.containsKey(file)) {
      throw new IOException("exists: " + file);
    }
    Inode inode = new Inode();
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
    Inode inode = inode(file);
    inode.current = Arrays.copyOf(inode.current, (int) sizeBytes);
    inode.dirty.removeIf(page -> (long) page * PAGE_BYTES >= sizeBytes);
    forceInode(inode);
  }

  @Override
  public synchronized void fsync(Path file) throws IOException {
    forceInode(inode(file));
  }

  @Override
  public synchronized void fsyncDirectory(Path dir) throws IOException {
    checkFsync();
    List<Consumer<Map<Path, Inode>>> ops = pending.remove(dir);
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
    Inode inode = inode(from);
    visible.remove(from);
    visible.put(to, inode);
    pendingOp(
        from.getParent(),
        d -> {
          Inode moved = d.remove(from);
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
      return new SingleByteArrayVol(inode(file).current.clone());
    }
    if (!visible.containsKey(file)) {
      create(file).close();
    }
    return new WritingVolume(inode(file), epoch);
  }

  private Inode inode(Path file) throws IOException {
    Inode inode = visible.get(file);
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

  private void pendingOp(Path dir, Consumer<Map<Path, Inode>> op) {
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

  private void forceInode(Inode inode) throws IOException {
    checkFsync();
    inode.durableContent = inode.current.clone();
    inode.dirty.clear();
  }

  private void checkEpoch(int handleEpoch) throws IOException {
    if (handleEpoch != epoch) {
      throw new IOException("the process that opened this file has crashed");
    }
  }

  /** A file's content: what the process sees, what is durable, and the pages in between. */
  private static final class Inode {
    byte[] current = new byte[0];
    byte[] durableContent = new byte[0];
    final TreeSet<Integer> dirty = new TreeSet<>();

    void write(long position, byte[] bytes) {
      int end = Math.toIntExact(position + bytes.length);
      if (end > current.length) {
        current = Arrays.copyOf(current, end);
      }
      System.arraycopy(bytes, 0, current, (int) position, bytes.length);
      for (long page = position / PAGE_BYTES; page * PAGE_BYTES < end; page++) {
        dirty.add((int) page);
      }
    }

    /** Keeps a random subset of the dirty pages, within a size that did or did not grow. */
    void crash(Random random) {
      int size = random.nextBoolean() ? current.length : durableContent.length;
      byte[] after = Arrays.copyOf(durableContent, size); // zeros past the old end
      for (int page : dirty) {
        if (random.nextBoolean()) {
          int from = page * PAGE_BYTES;
          int to = Math.min(Math.min(from + PAGE_BYTES, size), current.length);
          if (from < to) {
            System.arraycopy(current, from, after, from, to - from);
          }
        }
      }
      durableContent = after;
      current = after.clone();
      dirty.clear();
    }
  }

  private final class SimFile implements DiskFile {
    private final Inode inode;
    private final int fileEpoch;
    private long position;

    SimFile(Inode inode, long position, int fileEpoch) {
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
        inode.write(position, copy);
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

    @Override
    public void close() {}
  }

  /**
   * A MapDB volume held in memory while it is written, whose bytes become the file's (unsynced)
   * content when it is closed.
   */
  private final class WritingVolume extends Volume {
    private final Inode inode;
    private final int volumeEpoch;
    private final ByteArrayVol memory = new ByteArrayVol();
    private boolean done;

    WritingVolume(Inode inode, int volumeEpoch) {
      this.inode = inode;
      this.volumeEpoch = volumeEpoch;
    }

    @Override
    public void close() {
      synchronized (SimulatedDisk.this) {
        if (done) {
          return;
        }
        done = true;
        if (epoch == volumeEpoch) {
          byte[] bytes = new byte[Math.toIntExact(memory.length())];
          memory.getData(0, bytes, 0, bytes.length);
          inode.current = new byte[0];
          inode.write(0, bytes);
        }
        memory.close();
      }
    }

    @Override
    public void ensureAvailable(long offset) {
      memory.ensureAvailable(offset);
    }

    @Override
    public void truncate(long size) {
      memory.truncate(size);
    }

    @Override
    public void putLong(long offset, long value) {
      memory.putLong(offset, value);
    }

    @Override
    public void putInt(long offset, int value) {
      memory.putInt(offset, value);
    }

    @Override
    public void putByte(long offset, byte value) {
      memory.putByte(offset, value);
    }

    @Override
    public void putData(long offset, byte[] src, int srcPos, int srcSize) {
      memory.putData(offset, src, srcPos, srcSize);
    }

    @Override
    public void putData(long offset, ByteBuffer buf) {
      memory.putData(offset, buf);
    }

    @Override
    public long getLong(long offset) {
      return memory.getLong(offset);
    }

    @Override
    public int getInt(long offset) {
      return memory.getInt(offset);
    }

    @Override
    public byte getByte(long offset) {
      return memory.getByte(offset);
    }

    @Override
    public DataInput2 getDataInput(long offset, int size) {
      return memory.getDataInput(offset, size);
    }

    @Override
    public void getData(long offset, byte[] bytes, int bytesPos, int size) {
      memory.getData(offset, bytes, bytesPos, size);
    }

    @Override
    public void sync() {}

    @Override
    public int sliceSize() {
      return memory.sliceSize();
    }

    @Override
    public boolean isSliced() {
      return memory.isSliced();
    }

    @Override
    public long length() {
      return memory.length();
    }

    @Override
    public boolean isReadOnly() {
      return false;
    }

    @Override
    public File getFile() {
      return null;
    }

    @Override
    public boolean getFileLocked() {
      return false;
    }

    @Override
    public void clear(long startOffset, long endOffset) {
      memory.clear(startOffset, endOffset);
    }
  }
}
