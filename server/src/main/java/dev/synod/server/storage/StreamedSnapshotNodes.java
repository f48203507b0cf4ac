package dev.synod.server.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.zip.CRC32C;

/**
 * The nodes of a verified version 3 snapshot file too large to keep in memory, read from the file
 * again each time they are visited. {@link #forEachEncoded} reads the chunks on a thread of its
 * own, a few chunks ahead of the caller, so that reading and summing the file overlap with
 * whatever the caller does with each node (a restore decodes and links it). Each pass checks the
 * chunks against the sum taken when the file was verified: the file is never changed once named,
 * but if it was (or the disk returns other bytes), the pass fails rather than yield other nodes.
 */
final class StreamedSnapshotNodes implements SnapshotNodes {
  /** Chunks read ahead of the visitor: enough to keep both threads busy, a few MiB at most. */
  static final int CHUNKS_AHEAD_MAX = 32;

  private static final ChunkReader.Chunk END = new ChunkReader.Chunk(new byte[0], 0);

  private final Disk disk;
  private final Path file;
  private final long count;
  private final long chunkCount;
  private final long chunksCrc;

  StreamedSnapshotNodes(Disk disk, Path file, long count, long chunkCount, long chunksCrc) {
    this.disk = disk;
    this.file = file;
    this.count = count;
    this.chunkCount = chunkCount;
    this.chunksCrc = chunksCrc;
  }

  @Override
  public long count() {
    return count;
  }

  /**
   * Every node, parsed as iterated: the chunks are read into memory first (for callers that want
   * protobuf records anyway: tests, small tools; the restore uses {@link #forEachEncoded}).
   */
  @Override
  public Iterator<Entry> iterator() {
    ChunkedSnapshotNodes.Builder chunks = new ChunkedSnapshotNodes.Builder();
    ChunkReader reader = new ChunkReader();
    forEachChunk(reader, chunk -> {
      chunks.add(chunk.bytes(), chunk.length());
      reader.release(chunk);
    });
    return chunks.build(count).iterator();
  }

  @Override
  public void forEachRaw(RawVisitor visitor) {
    forEachEncoded(SnapshotNodes.withPaths(visitor));
  }

  @Override
  public void forEachEncoded(EncodedVisitor visitor) {
    BlockingQueue<ChunkReader.Chunk> ahead = new ArrayBlockingQueue<>(CHUNKS_AHEAD_MAX);
    Throwable[] readFailure = {null};
    // Buffers go round: read into on the reader thread, released here once visited.
    ChunkReader chunkReader = new ChunkReader();
    Thread reader = new Thread(() -> {
      try {
        forEachChunk(chunkReader, chunk -> {
          try {
            ahead.put(chunk);
          } catch (InterruptedException e) {
            throw new Stopped();
          }
        });
      } catch (Stopped e) {
        return; // the visitor gave up; nobody waits for the end
      } catch (RuntimeException | Error e) {
        readFailure[0] = e; // published to the visitor's thread by the queue
      }
      try {
        ahead.put(END);
      } catch (InterruptedException e) {
        // the visitor gave up
      }
    }, "snapshot-reader");
    reader.setDaemon(true);
    reader.start();
    boolean done = false;
    try {
      while (true) {
        ChunkReader.Chunk chunk;
        try {
          chunk = ahead.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while reading snapshot " + file, e);
        }
        if (chunk == END) {
          break;
        }
        ChunkedSnapshotNodes.forEachEntry(chunk.bytes(), chunk.length(), visitor);
        chunkReader.release(chunk); // the visitor keeps no bytes (RawVisitor's contract)
      }
      done = true;
    } finally {
      if (!done) {
        reader.interrupt();
      }
    }
    if (readFailure[0] instanceof RuntimeException e) {
      throw e;
    }
    if (readFailure[0] instanceof Error e) {
      throw e;
    }
  }

  private static final class Stopped extends RuntimeException {
    Stopped() {
      super(null, null, false, false);
    }
  }

  /** Receives one chunk of the file, read into one of its reader's buffers. */
  private interface ChunkSink {
    void accept(ChunkReader.Chunk chunk);
  }

  /**
   * Reads the file's chunks in order into {@code sink}, then checks them against the sum taken
   * when the file was verified.
   *
   * @throws IllegalArgumentException if the file cannot be read or no longer holds those chunks
   */
  private void forEachChunk(ChunkReader reader, ChunkSink sink) {
    CRC32C crc = new CRC32C();
    long chunks = 0;
    try (SnapshotFile.Opened opened = SnapshotFile.Opened.open(disk, file)) {
      for (Map.Entry<Long, ChunkReader.Chunk> e : opened.nodeChunks(reader).entrySet()) {
        ChunkReader.Chunk chunk = e.getValue();
        if (e.getKey() != chunks || chunks == chunkCount) {
          throw changed("chunk " + e.getKey() + " where " + chunks + " belongs");
        }
        crc.update(chunk.bytes(), 0, chunk.length());
        chunks++;
        sink.accept(chunk);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("snapshot " + file.toAbsolutePath()
          + " could not be read again: " + e, e);
    }
    if (chunks != chunkCount || crc.getValue() != chunksCrc) {
      throw changed(chunks + " chunks (of " + chunkCount + ") or their sum differ from the"
          + " file's verified at open");
    }
  }

  private IllegalArgumentException changed(String why) {
    return new IllegalArgumentException("snapshot " + file.toAbsolutePath()
        + " changed since it was verified: " + why);
  }
}
