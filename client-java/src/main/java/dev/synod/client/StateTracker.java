package dev.synod.client;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The client's {@link ConnectionState}: written on the loop, read anywhere, waited for by
 * {@link SynodClient#blockUntilConnected}, and told to the listeners in order on the event
 * thread.
 */
final class StateTracker {
  private final Object monitor = new Object();
  private final List<ConnectionStateListener> listeners = new CopyOnWriteArrayList<>();
  private final Callbacks callbacks;
  private volatile ConnectionState state;
  /** The client the listeners are told about. */
  private volatile SynodClient client;

  StateTracker(Callbacks callbacks, List<ConnectionStateListener> initial) {
    this.callbacks = callbacks;
    this.listeners.addAll(initial);
  }

  void bind(SynodClient client) {
    this.client = client;
  }

  /** The current state; null before the first connection. */
  ConnectionState get() {
    return state;
  }

  boolean is(ConnectionState s) {
    return state == s;
  }

  /** CONNECTED or RECONNECTED. */
  boolean connected() {
    ConnectionState s = state;
    return s == ConnectionState.CONNECTED || s == ConnectionState.RECONNECTED;
  }

  /** Sets the state (before anyone woken by it looks) and tells every listener. */
  void set(ConnectionState next) {
    synchronized (monitor) {
      state = next;
      monitor.notifyAll();
    }
    for (ConnectionStateListener l : listeners) {
      callbacks.deliver(() -> l.stateChanged(client, next));
    }
  }

  /** Waits until CONNECTED or RECONNECTED (true), CLOSED or the timeout (false); real time: it is the caller's wait. */
  boolean awaitConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (monitor) {
      while (!connected()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || state == ConnectionState.CLOSED) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(monitor, left);
      }
      return true;
    }
  }

  void addListener(ConnectionStateListener l) {
    listeners.add(l);
  }

  void removeListener(ConnectionStateListener l) {
    listeners.remove(l);
  }
}
