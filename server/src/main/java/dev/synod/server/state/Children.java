package dev.synod.server.state;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * The child nodes of one node, sorted by name (String order, which is what clients see). Small
 * sets, the usual case, are a sorted array: 4 bytes a child instead of a tree map's 40. Past
 * {@link #ARRAY_MAX} children an insert in the middle would move too much, so the set becomes a
 * {@link TreeMap}; it stays one (it only matters while a directory is that large).
 *
 * <p>Not thread-safe; owned by the {@link DataTree}.
 */
final class Children {
  /** Above this many children, a sorted array would shift too many references on each insert. */
  static final int ARRAY_MAX = 2048;

  private Node[] array;
  private int size;
  /** Replaces the array once the set grows past ARRAY_MAX. */
  private TreeMap<String, Node> map;

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

  /** Inserts {@code node}, or replaces the child of the same name. */
  void put(Node node) {
    if (map != null) {
      map.put(node.name, node);
      return;
    }
    int i = search(node.name, 0, node.name.length());
    if (i >= 0) {
      array[i] = node;
      return;
    }
    if (size == ARRAY_MAX) {
      map = new TreeMap<>();
      for (int k = 0; k < size; k++) {
        map.put(array[k].name, array[k]);
      }
      array = null;
      size = 0;
      map.put(node.name, node);
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
      if (!map.isEmpty() && map.lastKey().compareTo(node.name) >= 0) {
        return false;
      }
      map.put(node.name, node);
      return true;
    }
    if (size > 0 && array[size - 1].name.compareTo(node.name) >= 0) {
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

  /** Removes the child named {@code name}, if there is one. */
  void remove(String name) {
    if (map != null) {
      map.remove(name);
      return;
    }
    int i = search(name, 0, name.length());
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
    int low = 0;
    int high = size - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = compare(array[mid].name, key, from, to);
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

  /** {@code name.compareTo(key.substring(from, to))}, without making the substring. */
  static int compare(String name, String key, int from, int to) {
    int keyLength = to - from;
    int n = Math.min(name.length(), keyLength);
    for (int i = 0; i < n; i++) {
      char a = name.charAt(i);
      char b = key.charAt(from + i);
      if (a != b) {
        return a - b;
      }
    }
    return name.length() - keyLength;
  }
}
