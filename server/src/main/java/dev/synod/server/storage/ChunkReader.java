package dev.synod.server.storage;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;
import org.mapdb.serializer.GroupSerializerObjectArray;

/**
 * Reads a version 3 snapshot's node chunks into recycled buffers: the value serializer a reader
 * opens the chunk tree with, in place of {@link Serializer#BYTE_ARRAY} (whose format it reads: a
 * varint length, then the bytes), which allocates a new array for every chunk. On a restart those
 * arrays were 330 MB of garbage for 160 MB of file (the file is read twice), and in a cold JVM
 * every fresh megabyte of heap costs a page fault per page; garbage also fills the young
 * generation sooner, and each young collection copies the tree being built once more. A reader
 * gives a chunk's buffer back ({@link #release}) once it is done with its bytes.
 *
 * <p>A group serializer only because MapDB's tree map asks for one: the chunk tree keeps its
 * values outside its nodes, so only {@link #deserialize} is used.
 *
 * <p>Thread-safe: one thread may read chunks while another releases them.
 */
final class ChunkReader extends GroupSerializerObjectArray<ChunkReader.Chunk> {
  /** A chunk read: the first {@code length} bytes of {@code bytes}, a recycled buffer. */
  record Chunk(byte[] bytes, int length) {}

  /** Covers any chunk a writer makes (they stay below MapDB's 64 KiB record). */
  private static final int BUFFER_BYTES_MIN = 64 * 1024;

  /**
   * Buffers kept for reuse at most: as many as a reader may have in flight (the chunks read ahead
   * of a restore and those MapDB's iterator holds); beyond that a released buffer is dropped.
   */
  static final int FREE_BUFFERS_MAX = 64;

  private final ConcurrentLinkedQueue<byte[]> free = new ConcurrentLinkedQueue<>();

  @Override
  public Chunk deserialize(DataInput2 in, int available) throws IOException {
    int length = in.unpackInt();
    if (length < 0 || length > available) {
      // A damaged record: BYTE_ARRAY would attempt any allocation; refuse it here.
      throw new IOException("node chunk of " + length + " bytes in a record of " + available);
    }
    byte[] buffer = free.poll();
    if (buffer == null || buffer.length < length) {
      buffer = new byte[Math.max(length, BUFFER_BYTES_MIN)];
    }
    in.readFully(buffer, 0, length);
    return new Chunk(buffer, length);
  }

  /** Gives {@code chunk}'s buffer back for a later chunk; its bytes must not be read again. */
  void release(Chunk chunk) {
    byte[] buffer = chunk.bytes();
    // Only buffers of the usual size are kept (a rare larger one is left to the collector), and
    // the count check is approximate under concurrency, which is fine for a bound on garbage.
    if (buffer.length == BUFFER_BYTES_MIN && free.size() < FREE_BUFFERS_MAX) {
      free.offer(buffer);
    }
  }

  @Override
  public void serialize(DataOutput2 out, Chunk value) {
    throw new UnsupportedOperationException("a snapshot's chunks are read with this, not written");
  }

  @Override
  public boolean isTrusted() {
    return true;
  }
}
