package dev.synod.server.sim;

import java.io.File;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import net.jpountz.xxhash.StreamingXXHash64;
import org.mapdb.CC;
import org.mapdb.DataInput2;
import org.mapdb.volume.Volume;

/**
 * A MapDB volume over a {@link SimulatedDisk} file's pages (see {@link SimInode}). A writable one
 * holds what MapDB writes in memory, in pages allocated only once written (the megabyte MapDB
 * reserves costs nothing), and hands them to the file when closed; a read-only one reads the
 * file's pages in place. Sized in 1 MiB slices, as MapDB's own in-memory volume is: MapDB never
 * lets a record cross a slice. Numbers are big-endian, as in MapDB's byte-array volumes.
 */
final class SimVolume extends Volume {
  private static final int PAGE_BYTES = SimInode.PAGE_BYTES;
  private static final int PAGE_SHIFT = Integer.numberOfTrailingZeros(PAGE_BYTES);
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private static final int SLICE_SHIFT = 20;
  private static final int SLICE_BYTES = 1 << SLICE_SHIFT;

  /** Where a writable volume's content goes when it is closed. */
  interface Sink {
    void closed(byte[][] pages, long length);
  }

  private byte[][] pages;
  private long length;
  private final Sink sink; // null: read-only
  private boolean done;

  private SimVolume(byte[][] pages, long length, Sink sink) {
    this.pages = pages;
    this.length = length;
    this.sink = sink;
  }

  /** An empty volume to write; {@code sink} receives its content when it is closed. */
  static SimVolume writable(Sink sink) {
    return new SimVolume(new byte[0][], 0, sink);
  }

  /** A volume reading {@code pages} (never changed) of a file of {@code length} bytes. */
  static SimVolume readOnly(byte[][] pages, long length) {
    return new SimVolume(pages, length, null);
  }

  @Override
  public void close() {
    if (done) {
      return;
    }
    done = true;
    if (sink != null) {
      sink.closed(pages, length);
    }
    pages = null; // the file owns them now: any later use fails loudly
  }

  @Override
  public boolean isClosed() {
    return done;
  }

  @Override
  public void ensureAvailable(long offset) {
    if (offset > length) {
      resize((offset + SLICE_BYTES - 1) >>> SLICE_SHIFT << SLICE_SHIFT);
    }
  }

  @Override
  public void truncate(long size) {
    resize(((size >>> SLICE_SHIFT) + 1) << SLICE_SHIFT); // as MapDB's ByteArrayVol keeps slices
  }

  private void resize(long newLength) {
    checkWritable();
    pages = Arrays.copyOf(pages, SimInode.pageCount(newLength));
    length = newLength;
  }

  // -----------------------------------------------------------------------------------------------
  // Writes

  @Override
  public void putLong(long offset, long value) {
    byte[] page = writablePage(offset, Long.BYTES);
    if (page == null) {
      putNumber(offset, value, Long.BYTES);
    } else {
      LONG.set(page, (int) (offset & (PAGE_BYTES - 1)), value);
    }
  }

  @Override
  public void putInt(long offset, int value) {
    byte[] page = writablePage(offset, Integer.BYTES);
    if (page == null) {
      putNumber(offset, value, Integer.BYTES);
    } else {
      INT.set(page, (int) (offset & (PAGE_BYTES - 1)), value);
    }
  }

  /** The page that holds all {@code bytes} at {@code offset}, or null if they span two. */
  private byte[] writablePage(long offset, int bytes) {
    checkWritable();
    checkBounds("write", offset, bytes);
    if ((offset & (PAGE_BYTES - 1)) + bytes > PAGE_BYTES) {
      return null;
    }
    int page = (int) (offset >>> PAGE_SHIFT);
    if (pages[page] == null) {
      pages[page] = new byte[PAGE_BYTES]; // this volume's own until it is closed
    }
    return pages[page];
  }

  @Override
  public void putByte(long offset, byte value) {
    writablePage(offset, 1)[(int) (offset & (PAGE_BYTES - 1))] = value;
  }

  /** The low {@code bytes} bytes of {@code value}, big-endian, wherever they fall. */
  private void putNumber(long offset, long value, int bytes) {
    byte[] b = new byte[bytes];
    for (int i = 0; i < bytes; i++) {
      b[i] = (byte) (value >>> (8 * (bytes - 1 - i)));
    }
    put(offset, b, 0, bytes);
  }

  @Override
  public void putData(long offset, byte[] src, int srcPos, int srcSize) {
    put(offset, src, srcPos, srcSize);
  }

  @Override
  public void putData(long offset, ByteBuffer buf) {
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    put(offset, b, 0, b.length);
  }

  @Override
  public void clear(long startOffset, long endOffset) {
    put(startOffset, new byte[Math.toIntExact(endOffset - startOffset)], 0,
        Math.toIntExact(endOffset - startOffset));
  }

  private void put(long offset, byte[] src, int from, int count) {
    checkWritable();
    checkBounds("write", offset, count);
    for (long at = offset; at < offset + count; ) {
      int page = (int) (at / PAGE_BYTES);
      int inPage = (int) (at % PAGE_BYTES);
      int n = (int) Math.min(PAGE_BYTES - inPage, offset + count - at);
      if (pages[page] == null) {
        pages[page] = new byte[PAGE_BYTES]; // this volume's own until it is closed
      }
      System.arraycopy(src, from + (int) (at - offset), pages[page], inPage, n);
      at += n;
    }
  }

  private void checkWritable() {
    if (sink == null) {
      throw new UnsupportedOperationException("read-only volume");
    }
    if (done) {
      throw new IllegalStateException("volume closed");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Reads

  // MapDB reads its header an int at a time, thousands of times per commit: these stay lean.

  @Override
  public long getLong(long offset) {
    checkRead(offset, Long.BYTES);
    int inPage = (int) (offset & (PAGE_BYTES - 1));
    if (inPage + Long.BYTES > PAGE_BYTES) {
      return getNumber(offset, Long.BYTES);
    }
    byte[] page = pages[(int) (offset >>> PAGE_SHIFT)];
    return page == null ? 0 : (long) LONG.get(page, inPage);
  }

  @Override
  public int getInt(long offset) {
    checkRead(offset, Integer.BYTES);
    int inPage = (int) (offset & (PAGE_BYTES - 1));
    if (inPage + Integer.BYTES > PAGE_BYTES) {
      return (int) getNumber(offset, Integer.BYTES);
    }
    byte[] page = pages[(int) (offset >>> PAGE_SHIFT)];
    return page == null ? 0 : (int) INT.get(page, inPage);
  }

  @Override
  public byte getByte(long offset) {
    checkRead(offset, 1);
    byte[] page = pages[(int) (offset >>> PAGE_SHIFT)];
    return page == null ? 0 : page[(int) (offset & (PAGE_BYTES - 1))];
  }

  /** {@code bytes} bytes, big-endian, wherever they fall, as the low bytes of a long. */
  private long getNumber(long offset, int bytes) {
    long value = 0;
    for (byte b : get(offset, bytes)) {
      value = value << 8 | (b & 0xFF);
    }
    return value;
  }

  /**
   * What {@link Volume#hash} computes (MapDB's checksum of a whole store, the same streaming
   * xxhash of the same bytes), fed a page at a time rather than 128 bytes: MapDB hashes the
   * megabyte it reserves at every snapshot written.
   */
  @Override
  public long hash(long offset, long length, long seed) {
    StreamingXXHash64 hash = CC.HASH_FACTORY.newStreamingHash64(seed);
    byte[] chunk = new byte[PAGE_BYTES];
    for (long at = offset, end = offset + length; at < end; ) {
      int n = (int) Math.min(PAGE_BYTES - (at & (PAGE_BYTES - 1)), end - at);
      getData(at, chunk, 0, n);
      hash.update(chunk, 0, n);
      at += n;
    }
    return hash.getValue();
  }

  @Override
  public DataInput2 getDataInput(long offset, int size) {
    return new DataInput2.ByteArray(get(offset, size), 0);
  }

  @Override
  public void getData(long offset, byte[] bytes, int bytesPos, int size) {
    checkRead(offset, size);
    SimInode.copy(pages, length, offset, bytes, bytesPos, size);
  }

  private byte[] get(long offset, int count) {
    checkRead(offset, count);
    byte[] out = new byte[count];
    SimInode.copy(pages, length, offset, out, 0, count);
    return out;
  }

  private void checkRead(long offset, int count) {
    if (done) {
      throw new IllegalStateException("volume closed");
    }
    checkBounds("read", offset, count);
  }

  private void checkBounds(String what, long offset, int count) {
    if (offset < 0 || count < 0 || offset + count > length) {
      throw new IndexOutOfBoundsException(what + " of " + count + " bytes at " + offset
          + " in a volume of " + length + " bytes");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // The rest

  @Override
  public void sync() {}

  @Override
  public int sliceSize() {
    return SLICE_BYTES;
  }

  @Override
  public boolean isSliced() {
    return true;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public boolean isReadOnly() {
    return sink == null;
  }

  @Override
  public File getFile() {
    return null;
  }

  @Override
  public boolean getFileLocked() {
    return false;
  }
}
