package dev.synod.server.storage;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import kotlin.Pair;

/**
 * Cuts a snapshot's nodes (in path order) into the numbered chunks of a version 3 file, as MapDB's
 * bulk load asks for them, summing every entry into the file's checksum on the way. Only one chunk
 * is in memory at a time.
 */
final class NodeChunker implements Iterator<Pair<Long, byte[]>> {
  private final Iterator<SnapshotNodes.Entry> source;
  private final SnapshotFile.Checksum checksum;
  private byte[] buffer = new byte[SnapshotFile.CHUNK_BYTES_TARGET + 1024];
  private long chunks;
  private long nodes;

  NodeChunker(Iterator<SnapshotNodes.Entry> source, SnapshotFile.Checksum checksum) {
    this.source = source;
    this.checksum = checksum;
  }

  /** How many nodes the chunks made so far hold. */
  long nodes() {
    return nodes;
  }

  @Override
  public boolean hasNext() {
    return source.hasNext();
  }

  @Override
  public Pair<Long, byte[]> next() {
    if (!source.hasNext()) {
      throw new NoSuchElementException();
    }
    int at = 0;
    while (source.hasNext() && at < SnapshotFile.CHUNK_BYTES_TARGET) {
      SnapshotNodes.Entry e = source.next();
      byte[] path = e.path().getBytes(StandardCharsets.UTF_8);
      byte[] record = e.record().toByteArray();
      int needed = at + 10 + path.length + record.length;
      if (needed > buffer.length) {
        buffer = Arrays.copyOf(buffer, Math.max(needed, buffer.length * 2));
      }
      at = ChunkedSnapshotNodes.writeVarint(buffer, at, path.length);
      System.arraycopy(path, 0, buffer, at, path.length);
      at += path.length;
      at = ChunkedSnapshotNodes.writeVarint(buffer, at, record.length);
      System.arraycopy(record, 0, buffer, at, record.length);
      at += record.length;
      checksum.addNode(path, record);
      nodes++;
    }
    return new Pair<>(chunks++, Arrays.copyOf(buffer, at));
  }
}
