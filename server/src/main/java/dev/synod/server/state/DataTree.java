package dev.synod.server.state;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.NodeRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The znodes: each an immutable {@link NodeRecord} by path, with a sorted child-name set and
 * indexes (ephemerals by owner, TTL nodes) kept alongside. Knows nothing of the rules of the ops;
 * it only stores, and remembers how to undo every change until {@link #commit()}.
 *
 * <p>Not thread-safe: the state machine's lock guards it. Lookups use hash maps; everything whose
 * order anyone can observe (children, ephemerals, TTL nodes) is kept sorted.
 */
final class DataTree {
  private final Map<String, NodeRecord> nodes = new HashMap<>();
  private final Map<String, NavigableSet<String>> children = new HashMap<>();
  private final Map<Long, NavigableSet<String>> ephemeralsByOwner = new HashMap<>();
  private final NavigableSet<String> ttlPaths = new TreeSet<>();
  /** Previous values (null: absent) of every path changed since the last commit, oldest first. */
  private final List<Undo> undoLog = new ArrayList<>();
  private final Quotas quotas = new Quotas(this);

  private record Undo(String path, NodeRecord previous) {}

  DataTree() {
    reset();
  }

  private static NodeRecord rootRecord() {
    return NodeRecord.newBuilder()
        .setStat(Stat.newBuilder().setKind(NodeKind.PERSISTENT))
        .addAcl(TreeOps.WORLD_ANYONE_ALL)
        .build();
  }

  /** The quotas of subtrees and their usage, kept up to date by every change here. */
  Quotas quotas() {
    return quotas;
  }

  NodeRecord get(String path) {
    return nodes.get(path);
  }

  /** The node at {@code path}, or NO_NODE. */
  NodeRecord existing(String path) throws SynodException {
    NodeRecord node = nodes.get(path);
    if (node == null) {
      throw new SynodException(ErrorReason.NO_NODE, path + " does not exist", path);
    }
    return node;
  }

  /** The sorted child names of an existing node (a live view). */
  NavigableSet<String> children(String path) {
    return Collections.unmodifiableNavigableSet(children.get(path));
  }

  /** The sorted paths of the ephemeral nodes {@code sessionId} owns (a copy). */
  List<String> ephemeralsOf(long sessionId) {
    NavigableSet<String> owned = ephemeralsByOwner.get(sessionId);
    return owned == null ? List.of() : new ArrayList<>(owned);
  }

  /** The paths of all TTL nodes, sorted (a live view). */
  NavigableSet<String> ttlPaths() {
    return Collections.unmodifiableNavigableSet(ttlPaths);
  }

  int size() {
    return nodes.size();
  }

  /** A copy of the node map; cheap, since the records are immutable. */
  Map<String, NodeRecord> copyNodes() {
    return new HashMap<>(nodes);
  }

  /** Inserts or replaces a node. Its parent must exist; kind and owner never change on replace. */
  void put(String path, NodeRecord record) {
    NodeRecord previous = nodes.get(path);
    undoLog.add(new Undo(path, previous));
    store(path, previous, record);
  }

  /** Removes a node, which must exist and have no children. */
  void remove(String path) {
    NodeRecord previous = nodes.get(path);
    undoLog.add(new Undo(path, previous));
    unstore(path, previous);
  }

  /** Forgets how to undo: the changes since the last commit are final. */
  void commit() {
    undoLog.clear();
  }

  /** Reverts every change since the last commit, newest first. */
  void rollback() {
    for (int i = undoLog.size() - 1; i >= 0; i--) {
      Undo undo = undoLog.get(i);
      NodeRecord current = nodes.get(undo.path());
      if (undo.previous() == null) {
        unstore(undo.path(), current);
      } else {
        store(undo.path(), current, undo.previous());
      }
    }
    undoLog.clear();
  }

  /** Replaces the whole tree with {@code snapshotNodes}, checking that it is a consistent tree. */
  void load(SortedMap<String, NodeRecord> snapshotNodes) {
    if (!snapshotNodes.containsKey(Paths.ROOT)) {
      throw new IllegalArgumentException("snapshot has no root node");
    }
    clear();
    SortedMap<String, NodeRecord> sorted =
        snapshotNodes.comparator() == null ? snapshotNodes : new TreeMap<>(snapshotNodes);
    // Natural order puts every parent before its children ("/a" < "/a/b").
    for (Map.Entry<String, NodeRecord> entry : sorted.entrySet()) {
      String path = entry.getKey();
      if (!Paths.ROOT.equals(path) && !nodes.containsKey(Paths.parent(path))) {
        throw new IllegalArgumentException("snapshot node " + path + " has no parent");
      }
      store(path, null, entry.getValue());
    }
    for (Map.Entry<String, NodeRecord> entry : nodes.entrySet()) {
      int listed = entry.getValue().getStat().getNumChildren();
      int actual = children.get(entry.getKey()).size();
      if (listed != actual) {
        throw new IllegalArgumentException("snapshot node " + entry.getKey() + " says "
            + listed + " children but has " + actual);
      }
    }
  }

  /** Back to a tree holding only the root. */
  void reset() {
    clear();
    store(Paths.ROOT, null, rootRecord());
  }

  private void clear() {
    nodes.clear();
    children.clear();
    ephemeralsByOwner.clear();
    ttlPaths.clear();
    undoLog.clear();
    quotas.clear();
  }

  /** Owner session ids of all ephemeral nodes, sorted. */
  List<Long> ephemeralOwners() {
    return new ArrayList<>(new TreeSet<>(ephemeralsByOwner.keySet()));
  }

  private void store(String path, NodeRecord previous, NodeRecord record) {
    nodes.put(path, record);
    if (previous != null) {
      quotas.replaced(path, previous, record);
      return; // a replace: structure and indexes are unchanged
    }
    children.put(path, new TreeSet<>());
    if (!Paths.ROOT.equals(path)) {
      NavigableSet<String> siblings = children.get(Paths.parent(path));
      if (siblings == null) {
        throw new IllegalStateException("insert of " + path + " without its parent");
      }
      siblings.add(Paths.name(path));
    }
    Stat stat = record.getStat();
    if (stat.getEphemeralOwner() != 0) {
      ephemeralsByOwner.computeIfAbsent(stat.getEphemeralOwner(), id -> new TreeSet<>()).add(path);
    }
    if (stat.getKind() == NodeKind.TTL) {
      ttlPaths.add(path);
    }
    quotas.inserted(path, record);
  }

  private void unstore(String path, NodeRecord previous) {
    if (previous == null) {
      throw new IllegalStateException("remove of missing node " + path);
    }
    NavigableSet<String> own = children.get(path);
    if (!own.isEmpty()) {
      throw new IllegalStateException("remove of " + path + " which has children");
    }
    nodes.remove(path);
    children.remove(path);
    if (!Paths.ROOT.equals(path)) {
      children.get(Paths.parent(path)).remove(Paths.name(path));
    }
    long owner = previous.getStat().getEphemeralOwner();
    if (owner != 0) {
      NavigableSet<String> owned = ephemeralsByOwner.get(owner);
      owned.remove(path);
      if (owned.isEmpty()) {
        ephemeralsByOwner.remove(owner);
      }
    }
    ttlPaths.remove(path);
    quotas.removed(path, previous);
  }
}
