package dev.synod.server.storage;

import java.io.File;
import java.nio.ByteBuffer;
import org.mapdb.DataInput2;
import org.mapdb.volume.Volume;

/**
 * A volume opened read-only for one reader, wrapping another: large records (a snapshot's node
 * chunks) are read into one buffer that is reused from record to record, where MapDB's own file
 * volume allocates a new heap buffer for every record and the serializer then copies it again.
 * On a restart that matters more than the copy: every freshly allocated megabyte is heap that the
 * JVM touches for the first time, and page faults were most of a cold restart's time (see
 * docs/benchmarks.md, "Scale").
 *
 * <p>The buffer is valid only until the next read: MapDB deserializes a record before it reads
 * another, and one volume serves one thread.
 */
final class ReadOnlyVolume extends Volume {
  /** Records at least this large are read into the shared buffer; smaller ones as MapDB does. */
  static final int SHARED_READ_BYTES_MIN = 4096;

  /** Covers a whole chunk of a version 3 snapshot (below 64 KiB), so it is allocated once. */
  private static final int BUFFER_BYTES_INITIAL = 64 * 1024;

  private final Volume volume;
  private byte[] buffer = new byte[0];

  ReadOnlyVolume(Volume volume) {
    this.volume = volume;
  }

  @Override
  public DataInput2 getDataInput(long offset, int size) {
    if (size < SHARED_READ_BYTES_MIN) {
      return volume.getDataInput(offset, size);
    }
    if (buffer.length < size) {
      buffer = new byte[Math.max(size, BUFFER_BYTES_INITIAL)];
    }
    volume.getData(offset, buffer, 0, size);
    return new DataInput2.ByteArray(buffer, 0);
  }

  @Override
  public void getData(long offset, byte[] bytes, int bytesPos, int size) {
    volume.getData(offset, bytes, bytesPos, size);
  }

  @Override
  public long getLong(long offset) {
    return volume.getLong(offset);
  }

  @Override
  public int getInt(long offset) {
    return volume.getInt(offset);
  }

  @Override
  public byte getByte(long offset) {
    return volume.getByte(offset);
  }

  @Override
  public void close() {
    volume.close();
  }

  @Override
  public int sliceSize() {
    return volume.sliceSize();
  }

  @Override
  public boolean isSliced() {
    return volume.isSliced();
  }

  @Override
  public long length() {
    return volume.length();
  }

  @Override
  public boolean isReadOnly() {
    return true;
  }

  @Override
  public File getFile() {
    return volume.getFile();
  }

  @Override
  public boolean getFileLocked() {
    return volume.getFileLocked();
  }

  @Override
  public void ensureAvailable(long offset) {
    volume.ensureAvailable(offset);
  }

  @Override
  public void sync() {
    // Nothing written, nothing to sync.
  }

  @Override
  public void truncate(long size) {
    throw readOnly();
  }

  @Override
  public void putLong(long offset, long value) {
    throw readOnly();
  }

  @Override
  public void putInt(long offset, int value) {
    throw readOnly();
  }

  @Override
  public void putByte(long offset, byte value) {
    throw readOnly();
  }

  @Override
  public void putData(long offset, byte[] src, int srcPos, int srcSize) {
    throw readOnly();
  }

  @Override
  public void putData(long offset, ByteBuffer buf) {
    throw readOnly();
  }

  @Override
  public void clear(long startOffset, long endOffset) {
    throw readOnly();
  }

  private static UnsupportedOperationException readOnly() {
    return new UnsupportedOperationException("a snapshot is opened read-only");
  }
}
