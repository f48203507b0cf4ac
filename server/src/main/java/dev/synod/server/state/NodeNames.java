package dev.synod.server.state;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A node's name as a {@link Node} holds it: a {@code byte[]} of Latin-1 bytes (one a char) when
 * every char is below 256, which covers ASCII and so nearly every name, or else the String itself.
 * A String would cost every node a second object (and a third for its bytes) for the collector to
 * copy while a snapshot of millions of nodes is restored.
 *
 * <p>Names compare in String order ({@link String#compareTo}, UTF-16 char by char), whatever their
 * form: a Latin-1 byte {@code b} is the char {@code (char) (b & 0xff)}. A name is kept in the byte
 * form whenever it can be ({@link #compact}), so two names are equal only if both forms are equal,
 * but comparisons do not depend on that.
 */
final class NodeNames {
  /** The root's name (and any empty one). */
  static final byte[] EMPTY = new byte[0];

  private NodeNames() {}

  /**
   * The compact form of {@code name}: a String (or a compact form already) as a node holds it.
   *
   * @throws IllegalArgumentException if {@code name} is neither a String nor a byte[]
   */
  static Object compact(Object name) {
    if (name instanceof byte[]) {
      return name;
    }
    if (!(name instanceof String s)) {
      throw new IllegalArgumentException("a node name is a String or Latin-1 bytes, not "
          + (name == null ? "null" : name.getClass().getName()));
    }
    if (s.isEmpty()) {
      return EMPTY;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 256) {
        return s;
      }
    }
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * The compact form of the name whose UTF-8 encoding is {@code length} bytes of {@code utf8}
   * from {@code at}: a plain copy when they are all ASCII (UTF-8 and Latin-1 agree there), made
   * without a String; decoded otherwise.
   */
  static Object fromUtf8(byte[] utf8, int at, int length) {
    if (length == 0) {
      return EMPTY;
    }
    for (int i = at; i < at + length; i++) {
      if (utf8[i] < 0) { // a byte >= 0x80: part of a multi-byte character
        return compact(new String(utf8, at, length, StandardCharsets.UTF_8));
      }
    }
    return Arrays.copyOfRange(utf8, at, at + length);
  }

  /** {@code name} as a String (a new one for the byte form). */
  static String toString(Object name) {
    return name instanceof byte[] bytes
        ? new String(bytes, StandardCharsets.ISO_8859_1)
        : (String) name;
  }

  /** The name's length in chars. */
  static int length(Object name) {
    return name instanceof byte[] bytes ? bytes.length : ((String) name).length();
  }

  /** The name's char at {@code i}. */
  static char charAt(Object name, int i) {
    return name instanceof byte[] bytes ? (char) (bytes[i] & 0xff) : ((String) name).charAt(i);
  }

  /**
   * The sign of {@code name.compareTo(key.substring(from, to))} (and 0 exactly when they are
   * equal), without making the substring or a String of the name.
   */
  static int compare(Object name, String key, int from, int to) {
    int keyLength = to - from;
    if (name instanceof byte[] bytes) {
      int n = Math.min(bytes.length, keyLength);
      for (int i = 0; i < n; i++) {
        char a = (char) (bytes[i] & 0xff);
        char b = key.charAt(from + i);
        if (a != b) {
          return a - b;
        }
      }
      return bytes.length - keyLength;
    }
    String s = (String) name;
    int n = Math.min(s.length(), keyLength);
    for (int i = 0; i < n; i++) {
      char a = s.charAt(i);
      char b = key.charAt(from + i);
      if (a != b) {
        return a - b;
      }
    }
    return s.length() - keyLength;
  }

  /**
   * The sign of {@code a.compareTo(b)} for two names in either form (and so for Strings given as
   * such, e.g. a tree map's probe key).
   */
  static int compare(Object a, Object b) {
    if (a instanceof byte[] x) {
      if (b instanceof byte[] y) {
        // Unsigned bytes are the chars they stand for.
        return Arrays.compareUnsigned(x, y);
      }
      String t = (String) b;
      return compare(x, t, 0, t.length());
    }
    String s = (String) a;
    if (b instanceof String t) {
      return s.compareTo(t);
    }
    return -compare(b, s, 0, s.length());
  }

  /** Whether {@code name} equals {@code key}'s chars {@code [from, to)}. */
  static boolean equals(Object name, String key, int from, int to) {
    return length(name) == to - from && compare(name, key, from, to) == 0;
  }

  /**
   * Whether the descendants of the node named {@code waiting} ("waiting/...") sort before its
   * sibling named {@code sibling}, which sorts after it: they do unless the sibling's name
   * continues {@code waiting}'s with a char below '/'.
   */
  static boolean descendantsBefore(Object waiting, Object sibling) {
    int n = length(waiting);
    if (length(sibling) <= n || charAt(sibling, n) >= '/') {
      return true;
    }
    for (int i = 0; i < n; i++) {
      if (charAt(sibling, i) != charAt(waiting, i)) {
        return true;
      }
    }
    return false;
  }

  /** {@code parentPath + "/" + name} (without a doubled slash under the root), as one String. */
  static String join(String parentPath, Object name) {
    boolean root = Paths.ROOT.equals(parentPath);
    StringBuilder path = new StringBuilder(parentPath.length() + 1 + length(name));
    path.append(parentPath);
    if (!root) {
      path.append('/');
    }
    if (name instanceof byte[] bytes) {
      for (byte b : bytes) {
        path.append((char) (b & 0xff));
      }
    } else {
      path.append((String) name);
    }
    return path.toString();
  }
}
