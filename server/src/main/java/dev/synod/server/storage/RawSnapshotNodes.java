package dev.synod.server.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.txn.v1.NodeRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Snapshot nodes as a file holds them: paths and serialized records, in path order. Each record
 * is parsed only when iterated (the state machine turns it into its own node at once), so a loaded
 * snapshot costs its bytes, not a tree of protobuf objects, until it is restored.
 */
final class RawSnapshotNodes implements SnapshotNodes {
  private final String[] paths;
  private final byte[][] records;

  private RawSnapshotNodes(String[] paths, byte[][] records) {
    this.paths = paths;
    this.records = records;
  }

  /** Collects entries, which must come in ascending path order. */
  static final class Builder {
    private final List<String> paths = new ArrayList<>();
    private final List<byte[]> records = new ArrayList<>();

    int size() {
      return paths.size();
    }

    void add(String path, byte[] record) {
      paths.add(path);
      records.add(record);
    }

    RawSnapshotNodes build() {
      return new RawSnapshotNodes(paths.toArray(new String[0]), records.toArray(new byte[0][]));
    }
  }

  @Override
  public long count() {
    return paths.length;
  }

  @Override
  public void forEachRaw(RawVisitor visitor) {
    for (int i = 0; i < paths.length; i++) {
      visitor.visit(paths[i], records[i], 0, records[i].length);
    }
  }

  @Override
  public Iterator<Entry> iterator() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < paths.length;
      }

      @Override
      public Entry next() {
        if (next >= paths.length) {
          throw new NoSuchElementException();
        }
        int i = next++;
        try {
          return new Entry(paths[i], NodeRecord.parseFrom(records[i]));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException(
              "snapshot record of " + paths[i] + " does not parse: " + e.getMessage(), e);
        }
      }
    };
  }
}
