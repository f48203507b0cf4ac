package dev.synod.server.state;

import dev.synod.server.storage.SnapshotNodes;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A point-in-time view of the tree for a snapshot, without a copy of its contents: the nodes are
 * immutable, so references to them in path order, with the index of each one's parent, are the
 * whole state (8 bytes a node). Paths and {@code NodeRecord}s are built one at a time as the
 * snapshot is iterated, outside the state lock.
 *
 * <p>Path order is String order of the full paths, which is not the order of a depth-first walk:
 * "/a-b" sorts between "/a" and "/a/x" ('-' is below '/'). So within one parent, the descendants of
 * a child named s are emitted when the walk reaches the first sibling that sorts after s + "/";
 * until then they wait on a stack (whose top always has the smallest such key).
 */
final class TreeCapture implements SnapshotNodes {
  private final Node[] nodes;
  /** The index of each node's parent in {@link #nodes}; -1 for the root. */
  private final int[] parents;

  private TreeCapture(Node[] nodes, int[] parents) {
    this.nodes = nodes;
    this.parents = parents;
  }

  /** Captures the tree under {@code root}, which holds {@code size} nodes. Call under the lock. */
  static TreeCapture of(Node root, int size) {
    Node[] nodes = new Node[size];
    int[] parents = new int[size];
    nodes[0] = root;
    parents[0] = -1;
    int count = 1;
    ArrayDeque<Frame> frames = new ArrayDeque<>();
    frames.push(new Frame(root, 0));
    while (!frames.isEmpty()) {
      Frame f = frames.peek();
      Pending waiting = f.pending.peek();
      if (waiting != null && (f.next == null
          || NodeNames.descendantsBefore(waiting.node.compactName(), f.next.compactName()))) {
        f.pending.pop();
        frames.push(new Frame(waiting.node, waiting.index));
      } else if (f.next != null) {
        nodes[count] = f.next;
        parents[count] = f.index;
        if (f.next.children != null) {
          f.pending.push(new Pending(f.next, count));
        }
        count++;
        f.advance();
      } else {
        frames.pop();
      }
    }
    if (count != size) {
      throw new IllegalStateException("tree holds " + count + " nodes, its count says " + size);
    }
    return new TreeCapture(nodes, parents);
  }

  private record Pending(Node node, int index) {}

  /** One directory being walked: its children in name order, and those whose subtrees wait. */
  private static final class Frame {
    final int index;
    final Iterator<Node> children;
    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    Node next;

    Frame(Node node, int index) {
      this.index = index;
      this.children = node.children == null ? null : node.children.iteratorAfter(null);
      advance();
    }

    void advance() {
      next = children != null && children.hasNext() ? children.next() : null;
    }
  }

  @Override
  public long count() {
    return nodes.length;
  }

  @Override
  public Iterator<Entry> iterator() {
    return new Iterator<>() {
      /** The paths of the nodes that have children (the only ones anybody's path starts with). */
      private final String[] parentPaths = new String[nodes.length];
      private int next;

      @Override
      public boolean hasNext() {
        return next < nodes.length;
      }

      @Override
      public Entry next() {
        if (next >= nodes.length) {
          throw new NoSuchElementException();
        }
        int i = next++;
        Node node = nodes[i];
        String path = parents[i] < 0 ? Paths.ROOT : node.pathUnder(parentPaths[parents[i]]);
        if (node.numChildren > 0) {
          parentPaths[i] = path;
        }
        return new Entry(path, node.toRecord());
      }
    };
  }
}
