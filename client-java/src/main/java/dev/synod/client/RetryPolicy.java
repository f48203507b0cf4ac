package dev.synod.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How hard the client tries to reach a server. Between connection attempts it waits an
 * exponentially growing delay (from {@code baseDelay}, capped at {@code maxDelay}) with full
 * jitter; moving on to the next server of a round is immediate. After {@code maxAttempts}
 * consecutive failed attempts without a session (before the first one opened, or while
 * opening a new one) every pending call fails with {@link ConnectionLossException}, and so do new
 * calls until a server answers; the client keeps trying in the background. With a session, the
 * session timeout bounds the wait instead: calls complete after a resume, or fail with
 * {@link SessionExpiredException} once no server was heard from for longer than the timeout.
 * A request is also given up (ConnectionLossException) after being sent {@code maxAttempts}
 * times.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1");
    }
  }

  /** Exponential backoff from {@code baseDelay} to {@code maxDelay}, {@code maxAttempts} attempts. */
  public static RetryPolicy exponential(Duration baseDelay, Duration maxDelay, int maxAttempts) {
    return new RetryPolicy(maxAttempts, baseDelay, maxDelay);
  }

  /** 10 ms doubling to 1 s, 20 attempts. */
  public static RetryPolicy defaultPolicy() {
    return new RetryPolicy(20, Duration.ofMillis(10), Duration.ofSeconds(1));
  }

  /** The delay before attempt number {@code attempt} (1-based), jittered. */
  long delayMs(int attempt) {
    long base = Math.max(1, baseDelay.toMillis());
    long cap = Math.max(base, maxDelay.toMillis());
    long exp = attempt >= 30 ? cap : Math.min(cap, base << Math.max(0, attempt - 1));
    return exp / 2 + ThreadLocalRandom.current().nextLong(exp / 2 + 1);
  }
}
