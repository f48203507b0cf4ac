package dev.synod.client.recipes;

import dev.synod.client.ConnectionState;
import dev.synod.client.ConnectionStateListener;
import dev.synod.client.SynodClient;
import dev.synod.client.WatchedEvent;
import dev.synod.client.Watcher;

/**
 * What a blocked recipe call waits on: any one-shot watch it set with this object as the watcher,
 * or a change of the session (a watch is dropped when the session expires, so without this a
 * waiter would sleep until its deadline). The caller re-checks its condition after every wakeup;
 * spurious wakeups are harmless. Close it when the call returns.
 */
final class Wakeup implements Watcher, ConnectionStateListener, AutoCloseable {
  private final SynodClient client;
  private boolean fired;

  Wakeup(SynodClient client) {
    this.client = client;
    client.addConnectionStateListener(this);
  }

  @Override
  public void process(WatchedEvent event) {
    fire();
  }

  @Override
  public void stateChanged(SynodClient c, ConnectionState state) {
    if (state != ConnectionState.SUSPENDED) {
      fire();
    }
  }

  synchronized void fire() {
    fired = true;
    notifyAll();
  }

  /**
   * Waits until fired or {@code deadlineNanos} (System.nanoTime; Long.MAX_VALUE: no deadline).
   * Returns false on timeout. Consumes the wakeup.
   */
  synchronized boolean await(long deadlineNanos) throws InterruptedException {
    while (!fired) {
      long left = deadlineNanos == Long.MAX_VALUE ? Long.MAX_VALUE : deadlineNanos - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      if (left == Long.MAX_VALUE) {
        wait();
      } else {
        wait(left / 1_000_000, (int) (left % 1_000_000));
      }
    }
    fired = false;
    return true;
  }

  @Override
  public void close() {
    client.removeConnectionStateListener(this);
  }

  /** The deadline for a timeout from now (null: none). */
  static long deadline(java.time.Duration timeout) {
    if (timeout == null) {
      return Long.MAX_VALUE;
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    long nanos;
    try {
      nanos = timeout.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
    long now = System.nanoTime();
    // Saturate rather than overflow (comparing against a second reading of the clock instead made
    // every deadline that had passed by then, a zero timeout among them, look like "none").
    long d = now + nanos;
    return d < now ? Long.MAX_VALUE : d;
  }
}
