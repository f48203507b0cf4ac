package dev.synod.server.observe;

import dev.synod.server.storage.Disk;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.mapdb.volume.Volume;

/** A {@link Disk} that times every fsync of the one it wraps; everything else passes through. */
public final class MeteredDisk implements Disk {
  private final Disk disk;
  private final ServerMetrics metrics;

  public MeteredDisk(Disk disk, ServerMetrics metrics) {
    this.disk = disk;
    this.metrics = metrics;
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    disk.createDirectories(dir);
  }

  @Override
  public List<Path> list(Path dir) throws IOException {
    return disk.list(dir);
  }

  @Override
  public long size(Path file) throws IOException {
    return disk.size(file);
  }

  @Override
  public ByteBuffer read(Path file, int lengthBytes) throws IOException {
    return disk.read(file, lengthBytes);
  }

  @Override
  public ByteBuffer read(Path file, long position, int lengthBytes) throws IOException {
    return disk.read(file, position, lengthBytes);
  }

  @Override
  public DiskFile create(Path file) throws IOException {
    return metered(disk.create(file));
  }

  @Override
  public DiskFile openForWrite(Path file, long position) throws IOException {
    return metered(disk.openForWrite(file, position));
  }

  @Override
  public void truncate(Path file, long sizeBytes) throws IOException {
    disk.truncate(file, sizeBytes);
  }

  @Override
  public void fsync(Path file) throws IOException {
    long start = System.nanoTime();
    disk.fsync(file);
    metrics.fsyncDone(System.nanoTime() - start);
  }

  @Override
  public void fsyncDirectory(Path dir) throws IOException {
    long start = System.nanoTime();
    disk.fsyncDirectory(dir);
    metrics.fsyncDone(System.nanoTime() - start);
  }

  @Override
  public void deleteIfExists(Path file) throws IOException {
    disk.deleteIfExists(file);
  }

  @Override
  public void moveAtomically(Path from, Path to) throws IOException {
    disk.moveAtomically(from, to);
  }

  @Override
  public Closeable tryLock(Path lockFile) throws IOException {
    return disk.tryLock(lockFile);
  }

  @Override
  public Volume openVolume(Path file, boolean readOnly) throws IOException {
    return disk.openVolume(file, readOnly);
  }

  private DiskFile metered(DiskFile file) {
    return new DiskFile() {
      @Override
      public void write(ByteBuffer bytes) throws IOException {
        file.write(bytes);
      }

      @Override
      public void force() throws IOException {
        long start = System.nanoTime();
        file.force();
        metrics.fsyncDone(System.nanoTime() - start);
      }

      @Override
      public void preallocate(long sizeBytes) throws IOException {
        file.preallocate(sizeBytes);
      }

      @Override
      public void close() throws IOException {
        file.close();
      }
    };
  }
}
