package dev.synod.server.storage;

import dev.synod.txn.v1.NodeRecord;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The nodes of a {@link Snapshot}, in path order (String order, which puts every parent before its
 * children). Where they come from is the source's business: a live tree's capture (each record
 * built as it is reached), a snapshot file's raw records, or a map. Sources are immutable: every
 * iteration yields the same nodes, and none holds the whole tree as records.
 */
public interface SnapshotNodes {
  /** One node of a snapshot. */
  record Entry(String path, NodeRecord record) {}

  /** Receives one node of a snapshot. */
  @FunctionalInterface
  interface Visitor {
    void visit(String path, NodeRecord record);
  }

  /**
   * Receives one node as a serialized NodeRecord: {@code length} bytes of {@code bytes} from
   * {@code offset}. The bytes are the source's: read them during the call, never keep or change
   * them.
   */
  @FunctionalInterface
  interface RawVisitor {
    void visit(String path, byte[] bytes, int offset, int length);
  }

  /**
   * Receives one node with its path still UTF-8: {@code pathLength} bytes of {@code path} from
   * {@code pathAt}, and its serialized NodeRecord, {@code recordLength} bytes of {@code record}
   * from {@code recordAt} (often the same array). The bytes are the source's: read them during the
   * call, never keep or change them.
   */
  @FunctionalInterface
  interface EncodedVisitor {
    void visit(byte[] path, int pathAt, int pathLength, byte[] record, int recordAt,
        int recordLength);
  }

  /** How many nodes an iteration yields. */
  long count();

  /**
   * Every node, by ascending path.
   *
   * <p>{@code next()} throws IllegalArgumentException if a stored record does not parse (only a
   * source that parses lazily; a bug of the writer, since the file's checksum matched).
   */
  Iterator<Entry> iterator();

  /** Calls {@code visitor} once for every node, by ascending path. */
  default void forEach(Visitor visitor) {
    for (Iterator<Entry> it = iterator(); it.hasNext(); ) {
      Entry e = it.next();
      visitor.visit(e.path(), e.record());
    }
  }

  /**
   * Calls {@code visitor} once for every node, by ascending path, with its record serialized. A
   * source that holds records as bytes (a snapshot file's) hands them over as they are, so a
   * loader that decodes them itself makes no protobuf objects at all.
   */
  default void forEachRaw(RawVisitor visitor) {
    forEach((path, record) -> {
      byte[] bytes = record.toByteArray();
      visitor.visit(path, bytes, 0, bytes.length);
    });
  }

  /**
   * Calls {@code visitor} once for every node, by ascending path, with its path and record as the
   * source holds them. A snapshot file's source makes no String at all, so a loader that needs a
   * path only now and then (a restore: one per parent) does not make a million of them.
   */
  default void forEachEncoded(EncodedVisitor visitor) {
    forEachRaw((path, bytes, offset, length) -> {
      byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
      visitor.visit(utf8, 0, utf8.length, bytes, offset, length);
    });
  }

  /** {@code visitor} as an EncodedVisitor: it gets each path as a String. */
  static EncodedVisitor withPaths(RawVisitor visitor) {
    return (path, pathAt, pathLength, record, recordAt, recordLength) -> visitor.visit(
        new String(path, pathAt, pathLength, StandardCharsets.UTF_8), record, recordAt,
        recordLength);
  }

  /** The nodes of {@code nodes}, in natural path order whatever the map's comparator. */
  static SnapshotNodes of(SortedMap<String, NodeRecord> nodes) {
    SortedMap<String, NodeRecord> natural = nodes;
    if (nodes.comparator() != null) {
      natural = new TreeMap<>(); // not new TreeMap<>(sortedMap): that keeps the comparator
      natural.putAll(nodes);
    }
    SortedMap<String, NodeRecord> sorted = natural;
    return new SnapshotNodes() {
      @Override
      public long count() {
        return sorted.size();
      }

      @Override
      public Iterator<Entry> iterator() {
        Iterator<Map.Entry<String, NodeRecord>> it = sorted.entrySet().iterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return it.hasNext();
          }

          @Override
          public Entry next() {
            Map.Entry<String, NodeRecord> e = it.next();
            return new Entry(e.getKey(), e.getValue());
          }
        };
      }
    };
  }
}
