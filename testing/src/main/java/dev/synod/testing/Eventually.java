package dev.synod.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition with a deadline, never for a fixed time: the one helper tests need
 * instead of {@code Thread.sleep} and hand-rolled loops.
 */
public final class Eventually {
  private static final long POLL_MS = 10;

  private Eventually() {}

  /**
   * Returns once {@code condition} holds; throws an AssertionError naming {@code what} if it does
   * not within {@code timeout}.
   */
  public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline >= 0) {
        throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
      }
      pause();
    }
  }

  /**
   * Runs {@code check} until it returns without throwing (an assertion that will come true), and
   * rethrows its last failure after {@code timeout}.
   */
  public static void eventually(Duration timeout, Runnable check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw e;
        }
      }
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(POLL_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
  }
}
