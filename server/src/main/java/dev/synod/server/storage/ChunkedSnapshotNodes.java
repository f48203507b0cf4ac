package dev.synod.server.storage;

import com.google.protobuf.CodedInputStream;
import dev.synod.txn.v1.NodeRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Snapshot nodes as a version 3 file holds them: chunks of entries (varint length, UTF-8 path,
 * varint length, NodeRecord bytes), in path order. The chunks were checked (bounds and checksum)
 * when the file was read; paths and records are decoded only as they are iterated, so a loaded
 * snapshot costs its bytes, not a tree of objects, until the state machine has made its own nodes.
 */
final class ChunkedSnapshotNodes implements SnapshotNodes {
  /**
   * Chunks are packed into blocks of this size. A block is a humongous object for the G1
   * collector (at least half a region, for heaps up to 64 GiB), allocated straight into the old
   * generation: a young collection never copies it, as it would copy hundreds of MiB of small
   * chunks again and again while a restore fills the heap with nodes.
   */
  static final int BLOCK_BYTES = 16 << 20;

  /** The first block is smaller, so that a small snapshot costs little. */
  static final int FIRST_BLOCK_BYTES = 1 << 20;

  /** Blocks of whole chunks; each block holds entries back to back. */
  private final List<byte[]> blocks;
  private final long count;

  private ChunkedSnapshotNodes(List<byte[]> blocks, long count) {
    this.blocks = List.copyOf(blocks);
    this.count = count;
  }

  /** Collects the chunks of a file, in order, into blocks. */
  static final class Builder {
    private final List<byte[]> blocks = new ArrayList<>();
    private byte[] block;
    private int used;
    private long chunks;

    /** How many chunks were added. */
    long size() {
      return chunks;
    }

    /** Adds a copy of the first {@code length} bytes of {@code chunk}. */
    void add(byte[] chunk, int length) {
      chunks++;
      if (length > FIRST_BLOCK_BYTES) {
        seal();
        blocks.add(Arrays.copyOf(chunk, length));
        return;
      }
      if (block == null || used + length > block.length) {
        seal();
        block = new byte[blocks.isEmpty() ? FIRST_BLOCK_BYTES : BLOCK_BYTES];
      }
      System.arraycopy(chunk, 0, block, used, length);
      used += length;
    }

    private void seal() {
      if (block != null) {
        blocks.add(used == block.length ? block : Arrays.copyOf(block, used));
        block = null;
        used = 0;
      }
    }

    ChunkedSnapshotNodes build(long count) {
      seal();
      return new ChunkedSnapshotNodes(blocks, count);
    }
  }

  @Override
  public long count() {
    return count;
  }

  @Override
  public Iterator<Entry> iterator() {
    return new Iterator<>() {
      private int chunk;
      private int at;

      @Override
      public boolean hasNext() {
        while (chunk < blocks.size() && at >= blocks.get(chunk).length) {
          chunk++;
          at = 0;
        }
        return chunk < blocks.size();
      }

      @Override
      public Entry next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        byte[] bytes = blocks.get(chunk);
        int pathAt = skipVarint(bytes, at);
        int pathLength = readLength(bytes, at, pathAt);
        int recordLengthAt = pathAt + pathLength;
        int recordAt = skipVarint(bytes, recordLengthAt);
        int recordLength = readLength(bytes, recordLengthAt, recordAt);
        at = recordAt + recordLength;
        String path = new String(bytes, pathAt, pathLength, StandardCharsets.UTF_8);
        try {
          return new Entry(path, NodeRecord.parseFrom(
              CodedInputStream.newInstance(bytes, recordAt, recordLength)));
        } catch (IOException e) { // InvalidProtocolBufferException: a byte array has no other
          throw new IllegalArgumentException(
              "snapshot record of " + path + " does not parse: " + e.getMessage(), e);
        }
      }
    };
  }

  @Override
  public void forEachRaw(RawVisitor visitor) {
    forEachEncoded(SnapshotNodes.withPaths(visitor));
  }

  @Override
  public void forEachEncoded(EncodedVisitor visitor) {
    for (byte[] bytes : blocks) {
      forEachEntry(bytes, bytes.length, visitor);
    }
  }

  /**
   * Calls {@code visitor} for each entry in the first {@code end} bytes of {@code bytes}, whole
   * chunks back to back.
   */
  static void forEachEntry(byte[] bytes, int end, EncodedVisitor visitor) {
    int at = 0;
    while (at < end) {
      int pathAt = skipVarint(bytes, at, end);
      int pathLength = readLength(bytes, at, pathAt, end);
      int recordLengthAt = pathAt + pathLength;
      int recordAt = skipVarint(bytes, recordLengthAt, end);
      int recordLength = readLength(bytes, recordLengthAt, recordAt, end);
      at = recordAt + recordLength;
      visitor.visit(bytes, pathAt, pathLength, bytes, recordAt, recordLength);
    }
  }

  /**
   * The index just after the varint at {@code at}.
   *
   * @throws IllegalArgumentException if it runs past the end or past 5 bytes (a damaged chunk)
   */
  static int skipVarint(byte[] bytes, int at) {
    return skipVarint(bytes, at, bytes.length);
  }

  /** As {@link #skipVarint(byte[], int)}, for a chunk that ends at {@code end}. */
  static int skipVarint(byte[] bytes, int at, int end) {
    for (int i = at; i < end && i < at + 5; i++) {
      if (bytes[i] >= 0) {
        return i + 1;
      }
    }
    throw new IllegalArgumentException("damaged length at byte " + at + " of a node chunk");
  }

  /**
   * The varint in {@code [at, end)} as a length of bytes that follow it in {@code bytes}.
   *
   * @throws IllegalArgumentException if they would run past the end of the chunk
   */
  static int readLength(byte[] bytes, int at, int end) {
    return readLength(bytes, at, end, bytes.length);
  }

  /** As {@link #readLength(byte[], int, int)}, for a chunk that ends at {@code chunkEnd}. */
  static int readLength(byte[] bytes, int at, int end, int chunkEnd) {
    long value = 0;
    for (int i = end - 1; i >= at; i--) {
      value = (value << 7) | (bytes[i] & 0x7f);
    }
    if (value > chunkEnd - end) {
      throw new IllegalArgumentException("length " + value + " at byte " + at
          + " of a node chunk runs past its end (" + chunkEnd + " bytes)");
    }
    return (int) value;
  }

  /** Appends {@code value} (>= 0) as a varint to {@code out} at {@code at}; returns the end. */
  static int writeVarint(byte[] out, int at, int value) {
    int v = value;
    while ((v & ~0x7f) != 0) {
      out[at++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out[at++] = (byte) v;
    return at;
  }
}
