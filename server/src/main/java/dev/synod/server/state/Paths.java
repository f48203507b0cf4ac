package dev.synod.server.state;

import dev.synod.api.v1.ErrorReason;

/**
 * Node paths: validation (ZooKeeper's rules) and the few string helpers the tree needs. A valid
 * path is absolute, "/"-separated, has no empty, "." or ".." segment, no trailing "/" (except the
 * root "/") and no control or private-use characters.
 */
public final class Paths {
  public static final String ROOT = "/";
  /** What a sequential create appends: the parent's counter as 10 digits. */
  public static final int SEQUENCE_SUFFIX_BYTES = 10;

  /**
   * The system's subtree: the cluster writes it (through the log), clients may only read it. The
   * entry server refuses client writes there ({@link #checkNotSystem}).
   */
  public static final String SYSTEM = "/synod";
  /** The cluster's membership (see txn.proto SetMembersTxn). */
  public static final String MEMBERS = "/synod/members";

  private Paths() {}

  /** True for {@link #SYSTEM} and every path under it. */
  public static boolean isSystem(String path) {
    return SYSTEM.equals(path) || isAncestor(SYSTEM, path);
  }

  /**
   * Throws NO_AUTH for a client's write to {@link #SYSTEM} or under it. Checked where a write
   * enters, not at apply: a log written before the subtree was reserved replays as it did.
   */
  public static void checkNotSystem(String path) throws SynodException {
    if (isSystem(path)) {
      throw new SynodException(ErrorReason.NO_AUTH, path + " is reserved for the system (" + SYSTEM
          + " is written by the cluster itself; change the membership with `synod members`)", path);
    }
  }

  /**
   * Throws INVALID_PATH, saying what is wrong, unless {@code path} is a valid node path of at most
   * {@code pathBytesMax} UTF-8 bytes. The length limit is a setting of the server where a request
   * enters; apply checks syntax only ({@link #validate(String)}).
   */
  public static void validate(String path, int pathBytesMax) throws SynodException {
    check(path, false, 0, pathBytesMax);
  }

  /** Throws INVALID_PATH unless {@code path} is a syntactically valid node path, of any length. */
  public static void validate(String path) throws SynodException {
    check(path, false, 0, Integer.MAX_VALUE);
  }

  /**
   * Like {@link #validate(String, int)}, except that a sequential create may end with "/": the
   * counter becomes the last segment ({@code create("/q/", sequential)} makes "/q/0000000007"),
   * and the limit applies to the path with its counter. A new path must also be free of
   * invisible format and separator characters ({@link #isInvisible}), so two paths that look
   * identical cannot both be created. This is the entry server's check: apply keeps the syntax
   * it always had, so a log written before this rule replays to the same state.
   */
  public static void validateForCreate(String path, boolean sequential, int pathBytesMax)
      throws SynodException {
    check(path, sequential, sequential ? SEQUENCE_SUFFIX_BYTES : 0, pathBytesMax);
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (isInvisible(c)) {
        throw invalid(String.format("invisible character U+%04X (%s) at index %d: a new path must not"
            + " hold format or separator characters", (int) c, Character.getName(c), i), path);
      }
    }
  }

  /**
   * Unicode's format (Cf: U+200B zero width space, U+00AD soft hyphen, U+202E right-to-left
   * override, U+FEFF ...), line separator (Zl, U+2028) and paragraph separator (Zp, U+2029)
   * characters: invisible, or they reorder or break what a path looks like, as ZooKeeper refuses
   * its ranges of such characters.
   */
  static boolean isInvisible(char c) {
    int type = Character.getType(c);
    return type == Character.FORMAT || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  /** Like {@link #validate(String)} for a create: syntax only, any length. */
  public static void validateForCreate(String path, boolean sequential) throws SynodException {
    check(path, sequential, 0, Integer.MAX_VALUE);
  }

  /** The parent of a valid non-root path ("/a/b" → "/a", "/a" → "/"). */
  public static String parent(String path) {
    if (ROOT.equals(path)) {
      throw new IllegalArgumentException("the root has no parent");
    }
    int slash = path.lastIndexOf('/');
    return slash == 0 ? ROOT : path.substring(0, slash);
  }

  /** The last segment of a path ("/a/b" → "b"; "" for the root). */
  public static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  public static String join(String parent, String name) {
    return ROOT.equals(parent) ? ROOT + name : parent + "/" + name;
  }

  /** True when {@code ancestor} is a strict ancestor of {@code path} (never of itself). */
  public static boolean isAncestor(String ancestor, String path) {
    if (ancestor.length() >= path.length()) {
      return false;
    }
    if (ROOT.equals(ancestor)) {
      return true;
    }
    return path.startsWith(ancestor) && path.charAt(ancestor.length()) == '/';
  }

  private static void check(String path, boolean trailingSlashAllowed, int suffixBytes,
      int pathBytesMax) throws SynodException {
    if (path == null || path.isEmpty()) {
      throw invalid("path is empty", "");
    }
    if (path.charAt(0) != '/') {
      throw invalid("path must start with '/'", path);
    }
    int utf8Bytes = 0;
    int segmentStart = 1;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (isForbidden(c)) {
        throw invalid(String.format("invalid character U+%04X at index %d", (int) c, i), path);
      }
      utf8Bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // no surrogates get past isForbidden
      if (i > 0 && c == '/') {
        checkSegment(path, segmentStart, i);
        segmentStart = i + 1;
      }
    }
    if (path.length() > 1) {
      if (segmentStart == path.length()) {
        if (!trailingSlashAllowed) {
          throw invalid("path must not end with '/'", path);
        }
      } else {
        checkSegment(path, segmentStart, path.length());
      }
    }
    if ((long) utf8Bytes + suffixBytes > pathBytesMax) {
      String size = suffixBytes == 0 ? utf8Bytes + " UTF-8 bytes"
          : utf8Bytes + " UTF-8 bytes (" + (utf8Bytes + suffixBytes) + " with the sequence number)";
      throw invalid("path is " + size + ", over the limit of " + pathBytesMax, path);
    }
  }

  private static void checkSegment(String path, int start, int end) throws SynodException {
    int length = end - start;
    if (length == 0) {
      throw invalid("empty segment ('//') at index " + start, path);
    }
    if (path.charAt(start) == '.' && (length == 1 || (length == 2 && path.charAt(start + 1) == '.'))) {
      throw invalid("relative segment '" + path.substring(start, end) + "' is not allowed", path);
    }
  }

  /** ZooKeeper's forbidden characters: controls, surrogates, private use and the specials block. */
  private static boolean isForbidden(char c) {
    return c <= '\u001f'
        || (c >= '\u007f' && c <= '\u009f')
        || (c >= '\ud800' && c <= '\uf8ff')
        || c >= '\ufff0';
  }

  private static SynodException invalid(String message, String path) {
    return new SynodException(ErrorReason.INVALID_PATH, message, path);
  }
}
