package dev.synod.server.state;

/**
 * Where a restore puts the values of the nodes it makes: small values are copied back to back
 * into shared blocks, not each into an array of its own. A restore's nodes are all live, so every
 * young collection during the load copies whatever was allocated since the one before; a full
 * size block is a humongous object for the G1 collector, allocated in the old generation and never
 * copied, and it is one object where a hundred thousand values were as many. Blocks grow from
 * {@link #FIRST_BLOCK_BYTES}, so a small snapshot costs little.
 *
 * <p>The cost: a block stays in memory as long as any node still holds a value in it, so values
 * rewritten since the restore (a write gives its node an array of its own) free nothing until all
 * the nodes of their block have been rewritten or deleted. That memory is bounded by what the
 * snapshot's values took when loaded. Values above {@link #SHARED_BYTES_MAX} get their own array,
 * so that a block's unused end stays small.
 *
 * <p>Not thread-safe: one arena per load, on the decoding thread.
 */
final class ValueArena {
  /**
   * The largest block, less the array header (16 bytes on a 64-bit JVM): it then fills whole G1
   * regions for heaps below 32 GiB (regions of 1 to 8 MiB) instead of leaving the end of its last
   * region unused. Offsets in a block must fit the 24 bits a {@link Node} keeps them in.
   */
  static final int BLOCK_BYTES_MAX = (8 << 20) - 16;

  /** The first block; each next one is twice as large, up to {@link #BLOCK_BYTES_MAX}. */
  static final int FIRST_BLOCK_BYTES = (64 << 10) - 16;

  /** Larger values are not shared: at most this much of a block is left unused at its end. */
  static final int SHARED_BYTES_MAX = 16 * 1024;

  private static final byte[] NO_BYTES = new byte[0];

  private byte[] block;
  private int used;

  /** Where {@link #copy} put the last value: the array, and the offset in it. */
  byte[] array;
  int offset;

  /**
   * Copies {@code length} bytes of {@code bytes} from {@code from}; {@link #array} and
   * {@link #offset} then say where the copy is.
   */
  void copy(byte[] bytes, int from, int length) {
    if (length == 0) {
      array = NO_BYTES;
      offset = 0;
      return;
    }
    if (length > SHARED_BYTES_MAX) {
      array = new byte[length];
      offset = 0;
    } else {
      if (block == null || block.length - used < length) {
        block = new byte[block == null
            ? FIRST_BLOCK_BYTES
            : (int) Math.min(BLOCK_BYTES_MAX, 2L * (block.length + 16) - 16)];
        used = 0;
      }
      array = block;
      offset = used;
      used += length;
    }
    System.arraycopy(bytes, from, array, offset, length);
  }
}
