package dev.synod.server.state;

import dev.synod.server.storage.SnapshotNodes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

  /**
   * Receives each node, in path order, with its parent's path: null for the root (the path "/"),
   * "" for a path without a slash (a damaged snapshot's). Children of one parent arrive one after
   * another with the same String instance for it, so a sink may compare parents by identity;
   * the node's own path is {@link #pathOf}(parentPath, node's name), made only where needed.
   */
  @FunctionalInterface
  interface Sink {
    void accept(String parentPath, Node node);
  }

  private static final class Batch {
    final String[] parentPaths = new String[BATCH_NODES];
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
    PathSplitter paths = new PathSplitter();
    if (source.count() < THREAD_NODES_MIN) {
      source.forEachEncoded((path, pathAt, pathLength, record, recordAt, recordLength) -> {
        paths.split(path, pathAt, pathLength);
        sink.accept(paths.parentPath, decoder.decode(paths.parentPath, paths.name, record,
            recordAt, recordLength));
      });
      return;
    }
    BlockingQueue<Batch> ahead = new ArrayBlockingQueue<>(BATCHES_AHEAD_MAX);
    Thread decoding =
        new Thread(() -> decode(source, decoder, paths, ahead), "snapshot-decoder");
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
          sink.accept(batch.parentPaths[i], batch.nodes[i]);
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
  private static void decode(SnapshotNodes source, NodeDecoder decoder, PathSplitter paths,
      BlockingQueue<Batch> ahead) {
    Batch[] filling = {new Batch()};
    Throwable failure = null;
    try {
      source.forEachEncoded((path, pathAt, pathLength, record, recordAt, recordLength) -> {
        Batch batch = filling[0];
        paths.split(path, pathAt, pathLength);
        batch.parentPaths[batch.size] = paths.parentPath;
        batch.nodes[batch.size] =
            decoder.decode(paths.parentPath, paths.name, record, recordAt, recordLength);
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

  /**
   * The path of the node named {@code name} (in {@link NodeNames}' compact form) under
   * {@code parentPath}, as a {@link Sink} has it.
   */
  static String pathOf(String parentPath, Object name) {
    if (parentPath == null) {
      return Paths.ROOT;
    }
    return parentPath.isEmpty() ? NodeNames.toString(name) : NodeNames.join(parentPath, name);
  }

  /**
   * Splits UTF-8 paths, arriving in path order, into the parent's path and the node's name,
   * making one String per parent (shared by its children, which arrive one after another) and the
   * name in the compact form a node keeps ({@link NodeNames#fromUtf8}: for an ASCII name, a copy
   * of its bytes and no String): not the two a path String and its last part would cost each
   * node.
   */
  private static final class PathSplitter {
    /** The parent part of the last path split, as bytes, and as the String handed out. */
    private byte[] parentBytes = new byte[64];
    private int parentLength = -1;
    /** Of the last path split: see {@link Sink} for what it is. */
    String parentPath;
    /** In {@link NodeNames}' compact form. */
    Object name;

    void split(byte[] path, int at, int length) {
      if (length == 1 && path[at] == '/') {
        parentPath = null;
        parentLength = -1; // the next path makes its parent's String afresh
        name = NodeNames.EMPTY;
        return;
      }
      // '/' never occurs inside a UTF-8 encoded character, so the bytes can be searched.
      int slash = -1;
      for (int i = at + length - 1; i >= at; i--) {
        if (path[i] == '/') {
          slash = i - at;
          break;
        }
      }
      int parentBytesLength = slash < 0 ? 0 : Math.max(slash, 1);
      if (parentBytesLength != parentLength
          || !Arrays.equals(parentBytes, 0, parentLength, path, at, at + parentBytesLength)) {
        parentPath = new String(path, at, parentBytesLength, StandardCharsets.UTF_8);
        if (parentBytes.length < parentBytesLength) {
          parentBytes = new byte[Math.max(parentBytesLength, parentBytes.length * 2)];
        }
        System.arraycopy(path, at, parentBytes, 0, parentBytesLength);
        parentLength = parentBytesLength;
      }
      name = NodeNames.fromUtf8(path, at + slash + 1, length - slash - 1);
    }
  }
}
