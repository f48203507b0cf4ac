package dev.synod.server.state;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * The child nodes of one node, sorted by name (String order, which is what clients see). Small
 * sets, the usual case, are a sorted array: 4 bytes a child instead of a tree map's 40. Past
 * {@link #ARRAY_MAX} children an insert in the middle would move too much, so the set becomes a
 * {@link TreeMap}; it stays one (it only matters while a directory is that large). Names are
 * compared in their compact form ({@link NodeNames}), without a String per comparison; the map's
 * keys are the children's own compact names (a String only as a lookup's probe).
 *
 * <p>Not thread-safe; owned by the {@link DataTree}.
 */
final class Children {
  /** Above this many children, a sorted array would shift too many references on each insert. */
  static final int ARRAY_MAX = 2048;

  private Node[] array;
  private int size;
  /** Replaces the array once the set grows past ARRAY_MAX. */
  private TreeMap<Object, Node> map;

  Children() {
    this(2);
  }

  /** An empty set with room for {@code expected} children (capped at {@link #ARRAY_MAX}). */
  Children(int expected) {
    array = new Node[Math.max(1, Math.min(ARRAY_MAX, expected))];
  }

  int size() {
    return map != null ? map.size() : size;
  }

  /** The child named by {@code path}'s chars {@code [from, to)}, or null. */
  Node get(String path, int from, int to) {
    if (map != null) {
      return map.get(path.substring(from, to));
    }
    int i = search(path, from, to);
    return i >= 0 ? array[i] : null;
  }

  Node get(String name) {
    return get(name, 0, name.length());
  }

  /** The child with {@code node}'s name, or null. */
  Node sameNameAs(Node node) {
    if (map != null) {
      return map.get(node.compactName());
    }
    int i = search(node);
    return i >= 0 ? array[i] : null;
  }

  /** Inserts {@code node}, or replaces the child of the same name. */
  void put(Node node) {
    if (map != null) {
      map.put(node.compactName(), node);
      return;
    }
    int i = search(node);
    if (i >= 0) {
      array[i] = node;
      return;
    }
    if (size == ARRAY_MAX) {
      map = new TreeMap<>(NodeNames::compare);
      for (int k = 0; k < size; k++) {
        map.put(array[k].compactName(), array[k]);
      }
      array = null;
      size = 0;
      map.put(node.compactName(), node);
      return;
    }
    int at = -i - 1;
    if (size == array.length) {
      array = Arrays.copyOf(array, Math.min(ARRAY_MAX, size * 2));
    }
    System.arraycopy(array, at, array, at + 1, size - at);
    array[at] = node;
    size++;
  }

  /**
   * Adds {@code node} after every child, if its name sorts after theirs: how a snapshot's nodes
   * arrive (in path order), so a restore links each one without a search.
   *
   * @return false, having done nothing, if a child's name sorts at or after {@code node}'s
   */
  boolean append(Node node) {
    if (map != null) {
      if (!map.isEmpty() && NodeNames.compare(map.lastKey(), node.compactName()) >= 0) {
        return false;
      }
      map.put(node.compactName(), node);
      return true;
    }
    if (size > 0 && array[size - 1].compareName(node) >= 0) {
      return false;
    }
    if (size == ARRAY_MAX) {
      put(node); // becomes a map
      return true;
    }
    if (size == array.length) {
      array = Arrays.copyOf(array, Math.min(ARRAY_MAX, size * 2));
    }
    array[size++] = node;
    return true;
  }

  /** Removes the child with {@code node}'s name, if there is one. */
  void remove(Node node) {
    if (map != null) {
      map.remove(node.compactName());
      return;
    }
    int i = search(node);
    if (i >= 0) {
      System.arraycopy(array, i + 1, array, i, size - i - 1);
      array[--size] = null;
    }
  }

  /** The children in name order, starting after {@code after} (null: from the first). */
  Iterator<Node> iteratorAfter(String after) {
    if (map != null) {
      return (after == null ? map.values() : map.tailMap(after, false).values()).iterator();
    }
    int start = 0;
    if (after != null) {
      int i = search(after, 0, after.length());
      start = i >= 0 ? i + 1 : -i - 1;
    }
    int first = start;
    return new Iterator<>() {
      private int next = first;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      public Node next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        return array[next++];
      }
    };
  }

  /** Binary search of the array by name; as {@link Arrays#binarySearch}, -(insertion point) - 1. */
  private int search(String key, int from, int to) {
    return search(null, key, from, to);
  }

  /** As {@link #search(String, int, int)}, for the name of {@code node}. */
  private int search(Node node) {
    return search(node.compactName(), null, 0, 0);
  }

  /**
   * The search for a name in its compact form, or if {@code name} is null for {@code key}'s chars
   * {@code [from, to)}: a path's segment is compared where it lies, a node's name as it is held.
   */
  private int search(Object name, String key, int from, int to) {
    int low = 0;
    int high = size - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = name != null
          ? NodeNames.compare(array[mid].compactName(), name)
          : array[mid].compareName(key, from, to);
      if (c < 0) {
        low = mid + 1;
      } else if (c > 0) {
        high = mid - 1;
      } else {
        return mid;
      }
    }
    return -(low + 1);
  }
}
