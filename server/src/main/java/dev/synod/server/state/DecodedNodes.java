package dev.synod.server.state;

import dev.synod.server.storage.SnapshotNodes;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A snapshot's nodes decoded into {@link Node}s and handed, in path order, to the caller's thread.
 * For a large snapshot the decoding (and the reading under it) runs on a thread of its own, a few
 * batches ahead, while the caller links each node into the tree: a restore then uses two cores
 * where it used one. A small snapshot is decoded on the caller's thread.
 */
final class DecodedNodes {
  /** Below this many nodes a thread is not worth starting. */
  static final long THREAD_NODES_MIN = 10_000;

  /** Nodes handed over at a time, and batches decoded ahead of the caller. */
  static final int BATCH_NODES = 1024;
  static final int BATCHES_AHEAD_MAX = 16;

  /** Receives each node with its path, in path order. */
  @FunctionalInterface
  interface Sink {
    void accept(String path, Node node);
  }

  private static final class Batch {
    final String[] paths = new String[BATCH_NODES];
    final Node[] nodes = new Node[BATCH_NODES];
    int size;
    /** Set on the last batch if decoding failed; published to the caller by the queue. */
    Throwable failure;
    boolean last;
  }

  private DecodedNodes() {}

  /**
   * Decodes every node of {@code source} and passes it to {@code sink} on this thread.
   *
   * @throws IllegalArgumentException if a record does not decode (or whatever the source or the
   *     sink throws)
   */
  static void forEach(SnapshotNodes source, Sink sink) {
    NodeDecoder decoder = new NodeDecoder();
    if (source.count() < THREAD_NODES_MIN) {
      source.forEachRaw((path, bytes, offset, length) ->
          sink.accept(path, decoder.decode(path, nameOf(path), bytes, offset, length)));
      return;
    }
    BlockingQueue<Batch> ahead = new ArrayBlockingQueue<>(BATCHES_AHEAD_MAX);
    Thread decoding = new Thread(() -> decode(source, decoder, ahead), "snapshot-decoder");
    decoding.setDaemon(true);
    decoding.start();
    boolean done = false;
    try {
      while (true) {
        Batch batch;
        try {
          batch = ahead.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while restoring a snapshot", e);
        }
        for (int i = 0; i < batch.size; i++) {
          sink.accept(batch.paths[i], batch.nodes[i]);
        }
        if (batch.last) {
          if (batch.failure instanceof RuntimeException e) {
            throw e;
          }
          if (batch.failure instanceof Error e) {
            throw e;
          }
          break;
        }
      }
      done = true;
    } finally {
      if (!done) {
        decoding.interrupt(); // the sink gave up: stop the decoder (and the reading under it)
      }
    }
  }

  /** The decoding thread: fills batches until the source ends or fails. */
  private static void decode(SnapshotNodes source, NodeDecoder decoder,
      BlockingQueue<Batch> ahead) {
    Batch[] filling = {new Batch()};
    Throwable failure = null;
    try {
      source.forEachRaw((path, bytes, offset, length) -> {
        Batch batch = filling[0];
        batch.paths[batch.size] = path;
        batch.nodes[batch.size] = decoder.decode(path, nameOf(path), bytes, offset, length);
        if (++batch.size == BATCH_NODES) {
          put(ahead, batch);
          filling[0] = new Batch();
        }
      });
    } catch (Stopped e) {
      return; // the caller gave up; nobody waits for the rest
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    Batch last = filling[0];
    last.last = true;
    last.failure = failure;
    try {
      ahead.put(last);
    } catch (InterruptedException e) {
      // the caller gave up
    }
  }

  private static void put(BlockingQueue<Batch> ahead, Batch batch) {
    try {
      ahead.put(batch);
    } catch (InterruptedException e) {
      throw new Stopped();
    }
  }

  /** Thrown through the source when the caller stopped taking nodes. */
  private static final class Stopped extends RuntimeException {
    Stopped() {
      super(null, null, false, false);
    }
  }

  /** The last name of {@code path} ("" for the root; the whole string if it has no slash). */
  private static String nameOf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
