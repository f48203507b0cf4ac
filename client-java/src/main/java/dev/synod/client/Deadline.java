package dev.synod.client;

import java.time.Duration;

/**
 * When a call must be answered by: a point on the client's clock, and the budget it was given
 * (for the message). A call made of several requests (every page of getChildren) shares one.
 */
record Deadline(long atNanos, Duration budget) {
  /** {@code budget} from {@code nowNanos}, saturating rather than wrapping for huge budgets. */
  static Deadline after(Duration budget, long nowNanos) {
    return new Deadline(saturatedAdd(nowNanos, saturatedNanos(budget)), budget);
  }

  long leftNanos(long nowNanos) {
    return atNanos - nowNanos;
  }

  static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * {@code now + delta}; clamped to {@code now + Long.MAX_VALUE/2} so that deadline arithmetic by
   * difference ({@code at - now}) can never wrap.
   */
  static long saturatedAdd(long nowNanos, long deltaNanos) {
    return nowNanos + Math.max(0, Math.min(deltaNanos, Long.MAX_VALUE / 2));
  }
}
