package dev.synod.server.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * One file of a {@link SimulatedDisk}: what the running process sees, what is durable, and the
 * units written in between. Content is held as {@value #PAGE_BYTES}-byte pages, null for a page
 * of zeros, so a large sparse file (a MapDB snapshot reserves a megabyte) costs only the pages
 * that hold data. A page array, once stored, is never changed (a write stores a changed copy), so
 * the two views share pages freely and an fsync copies references, not bytes. Past the length,
 * the last page holds zeros.
 *
 * <p>A power loss keeps or loses each written unit on its own: a page, or a sector of one when
 * the disk writes sectors atomically but pages not ({@code unitBytes}, a divisor of the page).
 */
final class SimInode {
  static final int PAGE_BYTES = SimulatedDisk.PAGE_BYTES;
  private static final byte[] ZEROS = new byte[PAGE_BYTES];

  private final int unitBytes;
  private byte[][] current = new byte[0][];
  private long length;
  private byte[][] durable = new byte[0][];
  private long durableLength;
  /** Units written since the last fsync, ascending (a crash decides their fate in this order). */
  private final TreeSet<Long> dirty = new TreeSet<>();

  SimInode(int unitBytes) {
    this.unitBytes = checkUnit(unitBytes);
  }

  /** {@code unitBytes}, if it can be a write unit: a divisor of the page size. */
  static int checkUnit(int unitBytes) {
    if (unitBytes <= 0 || PAGE_BYTES % unitBytes != 0) {
      throw new IllegalArgumentException("a write unit must divide the " + PAGE_BYTES
          + "-byte page: " + unitBytes);
    }
    return unitBytes;
  }

  /** The size the process sees. */
  long length() {
    return length;
  }

  /** The pages the process sees, to be read and never changed. */
  byte[][] pages() {
    return current;
  }

  /** Writes {@code count} bytes of {@code src}, from {@code from}, at {@code position} (not durable). */
  void write(long position, byte[] src, int from, int count) {
    long end = position + count;
    if (end > length) {
      current = Arrays.copyOf(current, pageCount(end));
      length = end;
    }
    for (long at = position; at < end; ) {
      int page = (int) (at / PAGE_BYTES);
      int inPage = (int) (at % PAGE_BYTES);
      int n = (int) Math.min(PAGE_BYTES - inPage, end - at);
      byte[] copy = current[page] == null ? new byte[PAGE_BYTES] : current[page].clone();
      System.arraycopy(src, from + (int) (at - position), copy, inPage, n);
      current[page] = copy;
      at += n;
    }
    for (long unit = position / unitBytes; unit * unitBytes < end; unit++) {
      dirty.add(unit);
    }
  }

  /** {@code count} bytes from {@code position} as the process reads them (zeros past the end). */
  byte[] read(long position, int count) {
    byte[] out = new byte[count];
    copy(current, length, position, out, 0, count);
    return out;
  }

  /**
   * Copies {@code count} bytes of {@code pages} (a content of {@code length} bytes) from {@code
   * position} into {@code dst} at {@code at}: zeros for a page of zeros and past the end.
   */
  static void copy(byte[][] pages, long length, long position, byte[] dst, int at, int count) {
    long end = position + count;
    for (long p = position; p < end; ) {
      int page = (int) (p / PAGE_BYTES);
      int inPage = (int) (p % PAGE_BYTES);
      int n = (int) Math.min(PAGE_BYTES - inPage, end - p);
      int to = at + (int) (p - position);
      if (p < length && pages[page] != null) {
        int data = (int) Math.min(n, length - p);
        System.arraycopy(pages[page], inPage, dst, to, data);
        System.arraycopy(ZEROS, 0, dst, to + data, n - data);
      } else {
        System.arraycopy(ZEROS, 0, dst, to, n);
      }
      p += n;
    }
  }

  /** Cuts the file to {@code size}, or extends it with zeros; the caller makes that durable. */
  void truncate(long size) {
    current = trimmed(current, size);
    length = size;
    dirty.removeIf(unit -> unit * unitBytes >= size);
  }

  /**
   * Replaces the whole content with {@code pages} (which this file then owns: the caller must not
   * change them again); the pages that change are dirty.
   */
  void replace(byte[][] pages, long newLength) {
    current = trimmed(pages, newLength);
    length = newLength;
    int unitsPerPage = PAGE_BYTES / unitBytes;
    for (int page = 0; page < Math.max(current.length, durable.length); page++) {
      byte[] seen = page < current.length ? current[page] : null;
      if (seen != (page < durable.length ? durable[page] : null)) {
        for (int u = 0; u < unitsPerPage; u++) {
          dirty.add((long) page * unitsPerPage + u);
        }
      }
    }
  }

  /** An fsync: everything the process sees is durable. */
  void force() {
    durable = current.clone();
    durableLength = length;
    dirty.clear();
  }

  /**
   * A power loss: the size that did or did not reach the disk, and within it a random subset of
   * the dirty units (so a write of several units is torn, its units landing out of order).
   */
  void crash(Random random) {
    long size = random.nextBoolean() ? length : durableLength;
    byte[][] after = Arrays.copyOf(durable, pageCount(size));
    int changedPage = -1; // the page of after this crash made its own copy of
    for (long unit : dirty) {
      if (!random.nextBoolean()) {
        continue;
      }
      int page = (int) (unit * unitBytes / PAGE_BYTES);
      if (page >= after.length) {
        continue;
      }
      byte[] seen = page < current.length ? current[page] : null;
      if (unitBytes == PAGE_BYTES) {
        after[page] = seen;
        continue;
      }
      if (page != changedPage) {
        after[page] = after[page] == null ? new byte[PAGE_BYTES] : after[page].clone();
        changedPage = page;
      }
      int inPage = (int) (unit * unitBytes % PAGE_BYTES);
      System.arraycopy(seen == null ? ZEROS : seen, inPage, after[page], inPage, unitBytes);
    }
    after = trimmed(after, size);
    current = after;
    length = size;
    durable = after.clone();
    durableLength = size;
    dirty.clear();
  }

  /** The sectors of {@code sectorBytes} (a divisor of the page size) that hold a non-zero byte. */
  List<Long> sectorsWithData(int sectorBytes) {
    List<Long> sectors = new ArrayList<>();
    for (int page = 0; page < current.length; page++) {
      byte[] bytes = current[page];
      if (bytes == null) {
        continue;
      }
      for (int from = 0; from < PAGE_BYTES; from += sectorBytes) {
        for (int i = from; i < from + sectorBytes; i++) {
          if (bytes[i] != 0) {
            sectors.add(((long) page * PAGE_BYTES + from) / sectorBytes);
            break;
          }
        }
      }
    }
    return sectors;
  }

  /** Overwrites bytes at {@code position} (within one page) in what is seen and what is durable. */
  void spoil(long position, byte[] garbage) {
    current = spoiled(current, length, position, garbage);
    durable = spoiled(durable, durableLength, position, garbage);
  }

  private static byte[][] spoiled(byte[][] pages, long length, long position, byte[] garbage) {
    long end = Math.min(position + garbage.length, length);
    if (position >= end) {
      return pages;
    }
    int page = (int) (position / PAGE_BYTES);
    byte[] copy = pages[page] == null ? new byte[PAGE_BYTES] : pages[page].clone();
    System.arraycopy(garbage, 0, copy, (int) (position % PAGE_BYTES), (int) (end - position));
    byte[][] out = pages.clone();
    out[page] = copy;
    return out;
  }

  static int pageCount(long length) {
    return Math.toIntExact((length + PAGE_BYTES - 1) / PAGE_BYTES);
  }

  /** {@code pages} cut or extended to {@code length}, with zeros past it in the last page. */
  private static byte[][] trimmed(byte[][] pages, long length) {
    byte[][] out = Arrays.copyOf(pages, pageCount(length));
    int tail = (int) (length % PAGE_BYTES);
    if (tail != 0 && out[out.length - 1] != null) {
      byte[] last = out[out.length - 1].clone();
      Arrays.fill(last, tail, PAGE_BYTES, (byte) 0);
      out[out.length - 1] = last;
    }
    return out;
  }
}
