package dev.synod.client.recipes;

import java.time.Duration;
import java.util.Optional;

/**
 * The two entry points every lock recipe offers, over the one thing each does differently: an
 * attempt bounded by a deadline.
 */
abstract class DeadlineLock implements DistributedLock {
  @Override
  public final Lease acquire() throws InterruptedException {
    return attempt(Long.MAX_VALUE).orElseThrow(() -> new IllegalStateException("unbounded wait ended"));
  }

  @Override
  public final Optional<Lease> tryAcquire(Duration timeout) throws InterruptedException {
    if (timeout == null || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be zero or positive, got " + timeout);
    }
    return attempt(Wakeup.deadline(timeout));
  }

  /**
   * One attempt to acquire, giving up at {@code deadlineNanos} ({@link System#nanoTime()} scale;
   * {@link Long#MAX_VALUE} for none) with nothing left behind.
   */
  abstract Optional<Lease> attempt(long deadlineNanos) throws InterruptedException;
}
