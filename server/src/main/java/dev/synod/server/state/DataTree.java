package dev.synod.server.state;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.NodeKind;
import dev.synod.server.storage.SnapshotNodes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The znodes, as a tree of compact {@link Node}s: each node holds its children (sorted by name) and
 * only its name, so a path is looked up by walking it, and nothing per node is a map entry or a
 * path string. ACLs are shared ({@link AclTable}); indexes (ephemerals by owner, TTL nodes) are
 * kept alongside. Knows nothing of the rules of the ops; it only stores, and remembers how to undo
 * every change until {@link #commit()}.
 *
 * <p>Not thread-safe: the state machine's lock guards it. Everything whose order anyone can observe
 * (children, ephemerals, TTL nodes, snapshots) is kept sorted.
 */
final class DataTree {
  private Node root;
  private int size;
  private final AclTable acls = new AclTable();
  private final Map<Long, NavigableSet<String>> ephemeralsByOwner = new HashMap<>();
  private final NavigableSet<String> ttlPaths = new TreeSet<>();
  /** Previous values (null: absent) of every path changed since the last commit, oldest first. */
  private final List<Undo> undoLog = new ArrayList<>();
  private final Quotas quotas = new Quotas(this);

  private record Undo(String path, Node previous) {}

  DataTree() {
    reset();
  }

  private Node rootNode() {
    return new Node("", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NodeKind.PERSISTENT, new byte[0],
        internAcl(List.of(TreeOps.WORLD_ANYONE_ALL)), null);
  }

  /** The quotas of subtrees and their usage, kept up to date by every change here. */
  Quotas quotas() {
    return quotas;
  }

  /** The shared list equal to {@code acl}: what a new or changed node should hold. */
  List<Acl> internAcl(List<Acl> acl) {
    return acls.intern(acl);
  }

  /** How many distinct ACLs the nodes hold. */
  int aclCount() {
    return acls.size();
  }

  /** The node at {@code path}, or null (also for a path that is not well formed). */
  Node get(String path) {
    if (path.isEmpty() || path.charAt(0) != '/') {
      return null;
    }
    Node node = root;
    int from = 1;
    if (path.length() == 1) {
      return node;
    }
    while (true) {
      Children children = node.children;
      if (children == null) {
        return null;
      }
      int slash = path.indexOf('/', from);
      int to = slash < 0 ? path.length() : slash;
      node = children.get(path, from, to);
      if (node == null || slash < 0) {
        return node;
      }
      from = slash + 1;
    }
  }

  /** The node at {@code path}, or NO_NODE. */
  Node existing(String path) throws SynodException {
    Node node = get(path);
    if (node == null) {
      throw new SynodException(ErrorReason.NO_NODE, path + " does not exist", path);
    }
    return node;
  }

  /**
   * The children of {@code node} (a node of this tree, as it is now) in name order, after the name
   * {@code after} (null: from the first). Valid until the next change.
   */
  Iterator<Node> children(Node node, String after) {
    Children children = node.children;
    return children == null ? Collections.emptyIterator() : children.iteratorAfter(after);
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
    return size;
  }

  /** Inserts or replaces a node. Its parent must exist; kind and owner never change on replace. */
  void put(String path, Node node) {
    Node previous = get(path);
    undoLog.add(new Undo(path, previous));
    store(path, previous, node);
  }

  /** Removes a node, which must exist and have no children. */
  void remove(String path) {
    Node previous = get(path);
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
      Node current = get(undo.path());
      if (undo.previous() == null) {
        unstore(undo.path(), current);
      } else {
        store(undo.path(), current, undo.previous());
      }
    }
    undoLog.clear();
  }

  /**
   * Replaces the whole tree with a snapshot's nodes (in path order), checking that they make a
   * consistent tree. Each record's ACL is interned, so a loaded tree shares its ACLs as a grown
   * one does.
   *
   * @throws IllegalArgumentException if they do not (the tree is then in no useful state: reset it)
   */
  void load(SnapshotNodes snapshotNodes) {
    clear();
    root = null;
    // Path order lists siblings one after another, with one String for their parent's path: the
    // parent is looked up once per String.
    String[] lastParentPath = {null};
    Node[] parent = {null};
    DecodedNodes.forEach(snapshotNodes, (parentPath, node) -> {
      if (root == null) {
        if (parentPath != null) {
          throw new IllegalArgumentException("snapshot has no root node");
        }
        insert(Paths.ROOT, null, node);
        return;
      }
      if (parentPath == null) {
        throw new IllegalArgumentException("snapshot lists / twice");
      }
      if (parentPath != lastParentPath[0]) { // identity: equal Strings merely look up again
        lastParentPath[0] = parentPath;
        parent[0] = parentPath.isEmpty() ? null : get(parentPath);
      }
      if (parent[0] == null) {
        throw new IllegalArgumentException("snapshot node "
            + DecodedNodes.pathOf(parentPath, node.compactName()) + " has no parent");
      }
      link(parentPath, parent[0], node);
    });
    if (root == null) {
      throw new IllegalArgumentException("snapshot has no root node");
    }
    checkChildCounts();
  }

  /**
   * Every node's num_children must be the number of children it has. Paths are made only for the
   * nodes that have children (and for the message), not for a million leaves.
   */
  private void checkChildCounts() {
    ArrayDeque<Node> parents = new ArrayDeque<>();
    ArrayDeque<String> paths = new ArrayDeque<>();
    checkChildCount(root, Paths.ROOT);
    if (root.children != null) {
      parents.push(root);
      paths.push(Paths.ROOT);
    }
    while (!parents.isEmpty()) {
      Node parent = parents.pop();
      String path = paths.pop();
      for (Iterator<Node> it = children(parent, null); it.hasNext(); ) {
        Node child = it.next();
        if (child.children == null) {
          if (child.numChildren != 0) {
            checkChildCount(child, child.pathUnder(path));
          }
        } else {
          String childPath = child.pathUnder(path);
          checkChildCount(child, childPath);
          parents.push(child);
          paths.push(childPath);
        }
      }
    }
  }

  private static void checkChildCount(Node node, String path) {
    int actual = node.children == null ? 0 : node.children.size();
    if (node.numChildren != actual) {
      throw new IllegalArgumentException("snapshot node " + path + " says " + node.numChildren
          + " children but has " + actual);
    }
  }

  /** Back to a tree holding only the root. */
  void reset() {
    clear();
    root = null;
    insert(Paths.ROOT, null, rootNode());
  }

  private void clear() {
    root = null;
    size = 0;
    acls.clear();
    ephemeralsByOwner.clear();
    ttlPaths.clear();
    undoLog.clear();
    quotas.clear();
  }

  /** Owner session ids of all ephemeral nodes, sorted. */
  List<Long> ephemeralOwners() {
    return new ArrayList<>(new TreeSet<>(ephemeralsByOwner.keySet()));
  }

  /**
   * The nodes as they are now, for a snapshot: a capture of references to the (immutable) nodes in
   * path order and of who is whose parent, 8 bytes a node, made under the caller's lock; paths and
   * records are built later, outside it, one at a time as the snapshot is written.
   */
  SnapshotNodes capture() {
    return TreeCapture.of(root, size);
  }

  private void store(String path, Node previous, Node node) {
    if (previous == null) {
      Node parent = Paths.ROOT.equals(path) ? null : get(Paths.parent(path));
      if (parent == null && !Paths.ROOT.equals(path)) {
        throw new IllegalStateException("insert of " + path + " without its parent");
      }
      insert(path, parent, node);
      return;
    }
    // A replace: the children move to the new node; structure and indexes are unchanged.
    Children children = previous.children;
    previous.children = null;
    node.children = children;
    if (node.acl != previous.acl) {
      acls.retain(node.acl);
      acls.release(previous.acl);
    }
    if (Paths.ROOT.equals(path)) {
      root = node;
    } else {
      get(Paths.parent(path)).children.put(node);
    }
    quotas.replaced(path, previous, node);
  }

  /** Adds {@code node} at {@code path} under {@code parent} (null for the root). */
  private void insert(String path, Node parent, Node node) {
    node.children = null; // a node comes back (rollback) only without children
    if (parent == null) {
      root = node;
    } else {
      if (parent.children == null) {
        parent.children = new Children();
      }
      parent.children.put(node);
    }
    register(path, node);
  }

  /**
   * Adds a snapshot's {@code node} under {@code parent}, at {@code parentPath}: siblings arrive in
   * name order, so it goes after the others without a search, into a set sized by the parent's
   * child count. The node's path is made only if an index needs it (few nodes do).
   *
   * @throws IllegalArgumentException if the parent already has a child of that name
   */
  private void link(String parentPath, Node parent, Node node) {
    if (parent.children == null) {
      parent.children = new Children(parent.numChildren);
    }
    if (!parent.children.append(node)) {
      if (parent.children.sameNameAs(node) != null) {
        throw new IllegalArgumentException(
            "snapshot lists " + node.pathUnder(parentPath) + " twice");
      }
      parent.children.put(node); // out of path order: still a tree, so take it
    }
    if (node.ephemeralOwner != 0 || node.kind() == NodeKind.TTL || quotas.tracksInsertOf(node)) {
      register(node.pathUnder(parentPath), node);
    } else { // what register does for a node no index holds
      size++;
      acls.retain(node.acl);
    }
  }

  /** Counts and indexes a node just linked into the tree at {@code path}. */
  private void register(String path, Node node) {
    size++;
    acls.retain(node.acl);
    if (node.ephemeralOwner != 0) {
      ephemeralsByOwner.computeIfAbsent(node.ephemeralOwner, id -> new TreeSet<>()).add(path);
    }
    if (node.kind() == NodeKind.TTL) {
      ttlPaths.add(path);
    }
    quotas.inserted(path, node);
  }

  private void unstore(String path, Node previous) {
    if (previous == null) {
      throw new IllegalStateException("remove of missing node " + path);
    }
    if (previous.children != null && previous.children.size() > 0) {
      throw new IllegalStateException("remove of " + path + " which has children");
    }
    if (Paths.ROOT.equals(path)) {
      throw new IllegalStateException("remove of the root");
    }
    Node parent = get(Paths.parent(path));
    parent.children.remove(previous);
    if (parent.children.size() == 0) {
      parent.children = null; // children are stored only where there are some
    }
    previous.children = null;
    size--;
    acls.release(previous.acl);
    long owner = previous.ephemeralOwner;
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
