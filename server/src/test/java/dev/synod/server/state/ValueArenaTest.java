package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Restored values are copied back to back into shared blocks that grow; large ones stand alone. */
class ValueArenaTest {
  private static byte[] bytes(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed + i);
    }
    return b;
  }

  @Test
  void smallValuesShareABlockAndKeepTheirBytes() {
    ValueArena arena = new ValueArena();
    byte[] source = bytes(300, 7);
    arena.copy(source, 10, 100);
    byte[] first = arena.array;
    int firstOffset = arena.offset;
    arena.copy(source, 110, 100);

    assertSame(first, arena.array, "one block for both");
    assertEquals(firstOffset + 100, arena.offset);
    assertArrayEquals(Arrays.copyOfRange(source, 10, 110),
        Arrays.copyOfRange(first, firstOffset, firstOffset + 100));
    assertArrayEquals(Arrays.copyOfRange(source, 110, 210),
        Arrays.copyOfRange(arena.array, arena.offset, arena.offset + 100));
  }

  @Test
  void blocksGrowToTheMaximumAndALargeValueGetsItsOwnArray() {
    ValueArena arena = new ValueArena();
    byte[] value = bytes(ValueArena.SHARED_BYTES_MAX, 1);
    byte[] block = null;
    int blocks = 0;
    long bytes = 0;
    while (bytes < 3L * ValueArena.BLOCK_BYTES_MAX) {
      arena.copy(value, 0, value.length);
      bytes += value.length;
      if (arena.array != block) {
        assertTrue(block == null || arena.array.length >= block.length, "blocks never shrink");
        assertTrue(arena.array.length <= ValueArena.BLOCK_BYTES_MAX);
        block = arena.array;
        blocks++;
      }
    }
    assertEquals(ValueArena.BLOCK_BYTES_MAX, block.length, "grown to the largest block");
    assertTrue(blocks < 12, blocks + " blocks for 24 MiB: they double");

    byte[] large = bytes(ValueArena.SHARED_BYTES_MAX + 1, 3);
    arena.copy(large, 0, large.length);
    assertNotSame(block, arena.array);
    assertEquals(0, arena.offset);
    assertArrayEquals(large, arena.array);
  }

  @Test
  void aRestoredNodeAnswersItsValueAndAWriteGivesItItsOwn() {
    ValueArena arena = new ValueArena();
    byte[] source = bytes(50, 5);
    arena.copy(source, 0, 20); // a neighbour's value before it
    arena.copy(source, 20, 30);
    Node restored = new Node("n", 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        dev.synod.api.v1.NodeKind.PERSISTENT, arena.array, arena.offset, 30, java.util.List.of(),
        null);

    assertEquals(30, restored.dataLength());
    assertArrayEquals(Arrays.copyOfRange(source, 20, 50), restored.data().toByteArray());
    assertEquals(30, restored.stat().getDataLength());
    assertEquals(restored.data(), restored.toRecord().getData());
    Node written = restored.withData(new byte[] {9}, 2, 2);
    assertArrayEquals(new byte[] {9}, written.data().toByteArray());
    assertEquals(restored.data(), restored.withChildDelta(1, 3).data(), "kept by other changes");

    arena.copy(source, 0, 0);
    Node empty = new Node("e", 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        dev.synod.api.v1.NodeKind.PERSISTENT, arena.array, arena.offset, 0, java.util.List.of(),
        null);
    assertTrue(empty.data().isEmpty());
  }
}
