package dev.synod.server.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;

/** Chunks read as BYTE_ARRAY wrote them, into buffers that are handed back and used again. */
class ChunkReaderTest {
  private static DataInput2 written(byte[] value) throws IOException {
    DataOutput2 out = new DataOutput2();
    Serializer.BYTE_ARRAY.serialize(out, value);
    return new DataInput2.ByteArray(out.copyBytes());
  }

  @Test
  void readsWhatByteArrayWroteIntoARecycledBuffer() throws IOException {
    ChunkReader reader = new ChunkReader();
    byte[] value = new byte[1000];
    Arrays.fill(value, (byte) 4);

    ChunkReader.Chunk first = reader.deserialize(written(value), 1002);
    assertEquals(1000, first.length());
    assertArrayEquals(value, Arrays.copyOf(first.bytes(), first.length()));

    ChunkReader.Chunk held = reader.deserialize(written(value), 1002);
    assertNotSame(first.bytes(), held.bytes(), "a chunk not yet released keeps its buffer");
    reader.release(first);
    ChunkReader.Chunk next = reader.deserialize(written(new byte[] {1, 2, 3}), 4);
    assertSame(first.bytes(), next.bytes(), "a released buffer is used again");
    assertArrayEquals(new byte[] {1, 2, 3}, Arrays.copyOf(next.bytes(), next.length()));
  }

  @Test
  void aLengthBeyondTheRecordIsRefusedBeforeAnyAllocation() throws IOException {
    DataOutput2 out = new DataOutput2();
    out.packInt(Integer.MAX_VALUE - 8); // a damaged record claiming 2 GiB
    DataInput2 in = new DataInput2.ByteArray(out.copyBytes());
    assertThrows(IOException.class, () -> new ChunkReader().deserialize(in, 5));
  }
}
