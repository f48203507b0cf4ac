package dev.synod.server.state;

/**
 * Arithmetic on times and limits that saturates instead of wrapping: a value near the end of the
 * range (a TTL, a stamped time) must read as "very far", never as "long ago".
 */
public final class Saturating {
  private Saturating() {}

  /** {@code a + b}, clamped to [Long.MIN_VALUE, Long.MAX_VALUE]. */
  public static long add(long a, long b) {
    long sum = a + b;
    // Overflow iff both operands have the same sign and the sum's sign differs.
    if (((a ^ sum) & (b ^ sum)) < 0) {
      return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return sum;
  }
}
