package dev.synod.server;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, never for a fixed time. The same API as
 * {@code dev.synod.testing.Eventually}, which the server's and the SDK's tests cannot use
 * (synod-testing depends on both), plus a form that reports the last value seen and a form that
 * checks a condition keeps holding for a window. The SDK's tests use this class through the
 * server's test jar.
 */
public final class Eventually {
  private static final long POLL_MS_MIN = 2;
  private static final long POLL_MS_MAX = 50;

  private Eventually() {}

  /** Returns once {@code condition} holds; throws an AssertionError naming {@code what} if not within {@code timeout}. */
  public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
    eventually(timeout, what, condition::getAsBoolean, Boolean::booleanValue);
  }

  /**
   * Polls {@code value} until {@code done} accepts it and returns that value; after {@code timeout}
   * throws an AssertionError naming {@code what} and the last value seen.
   */
  public static <T> T eventually(Duration timeout, String what, Supplier<T> value, Predicate<? super T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMs = POLL_MS_MIN;
    while (true) {
      T seen = value.get();
      if (done.test(seen)) {
        return seen;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what + "; last seen: " + seen);
      }
      pauseMs = pause(pauseMs);
    }
  }

  /**
   * Runs {@code check} until it returns without throwing (an assertion that will come true), and
   * rethrows its last failure after {@code timeout}.
   */
  public static void eventually(Duration timeout, Runnable check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMs = POLL_MS_MIN;
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw e;
        }
      }
      pauseMs = pause(pauseMs);
    }
  }

  /**
   * Checks that {@code condition} holds throughout {@code window} (polled, so a brief lapse between
   * polls can be missed): the negative check "nothing happens meanwhile", which has no condition to
   * wait for. Throws an AssertionError naming {@code what} as soon as it does not hold.
   */
  public static void holdsFor(Duration window, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + window.toNanos();
    long pauseMs = POLL_MS_MIN;
    while (true) {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("stopped holding within " + window.toMillis() + " ms: " + what);
      }
      if (System.nanoTime() - end >= 0) {
        return;
      }
      pauseMs = pause(pauseMs);
    }
  }

  /** Sleeps {@code pauseMs} and returns the next pause: doubling, capped, so quick conditions are seen quickly. */
  private static long pause(long pauseMs) {
    try {
      Thread.sleep(pauseMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
    return Math.min(pauseMs * 2, POLL_MS_MAX);
  }
}
