package dev.synod.client.recipes;

import dev.synod.client.ConnectionState;
import dev.synod.client.ConnectionStateListener;
import dev.synod.client.SynodClient;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One per client: follows its connection states on behalf of every recipe using that client and
 * adds the one signal the client does not give, {@link Signal#JEOPARDY}: the client has been
 * SUSPENDED for longer than the session timeout, so it can no longer know that its session (and
 * with it any lock it holds) is alive. Recipes subscribe and unsubscribe freely (the client's own
 * listener list only grows). Subscribers are called on the client's event thread or on the shared
 * jeopardy timer thread and must only hand work on.
 */
final class ClientMonitor implements ConnectionStateListener {
  private static final Logger LOG = Logger.getLogger(ClientMonitor.class.getName());
  private static final Map<SynodClient, ClientMonitor> MONITORS = new WeakHashMap<>();
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "synod-recipes-jeopardy-timer");
    t.setDaemon(true);
    return t;
  });

  /** What a subscriber is told. */
  enum Signal {
    /** Connection lost; the session may be alive. Ownership is kept for now. */
    SUSPENDED,
    /** Same session again. */
    RECONNECTED,
    /** A new session (the old one, and everything it owned, is gone). */
    CONNECTED,
    /** Suspended for longer than the session timeout: treat ownership as lost. */
    JEOPARDY,
    /** The session expired. */
    EXPIRED,
    /** The client was closed. */
    CLOSED
  }

  @FunctionalInterface
  interface Subscriber {
    void onSignal(Signal signal);
  }

  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final SynodClient client;
  // Written on the client's event thread (in state order), read anywhere.
  private volatile long suspendedAtNanos;
  private volatile boolean suspended;
  private volatile long suspensions;

  private ClientMonitor(SynodClient client) {
    this.client = client;
    if (client.state() == ConnectionState.SUSPENDED) {
      markSuspended(); // joined late: count from now
    }
  }

  /** The monitor of {@code client}, created and registered on first use. */
  static ClientMonitor of(SynodClient client) {
    synchronized (MONITORS) {
      ClientMonitor m = MONITORS.get(client);
      if (m == null) {
        m = new ClientMonitor(client);
        MONITORS.put(client, m);
        client.addConnectionStateListener(m);
      }
      return m;
    }
  }

  void subscribe(Subscriber s) {
    subscribers.add(s);
  }

  void unsubscribe(Subscriber s) {
    subscribers.remove(s);
  }

  /** True while the client has been suspended for longer than its session timeout. */
  boolean inJeopardy() {
    return suspended && System.nanoTime() - suspendedAtNanos > client.sessionTimeout().toNanos();
  }

  @Override
  public void stateChanged(SynodClient c, ConnectionState state) {
    switch (state) {
      case SUSPENDED -> {
        long which = markSuspended();
        long timeoutMs = c.sessionTimeout().toMillis();
        TIMER.schedule(() -> {
          if (suspended && suspensions == which) {
            publish(Signal.JEOPARDY);
          }
        }, timeoutMs + 1, TimeUnit.MILLISECONDS);
        publish(Signal.SUSPENDED);
      }
      case RECONNECTED -> {
        suspended = false;
        publish(Signal.RECONNECTED);
      }
      case CONNECTED -> {
        suspended = false;
        publish(Signal.CONNECTED);
      }
      case EXPIRED -> {
        suspended = false;
        publish(Signal.EXPIRED);
      }
      case CLOSED -> {
        suspended = false;
        publish(Signal.CLOSED);
      }
    }
  }

  private synchronized long markSuspended() {
    suspendedAtNanos = System.nanoTime();
    suspended = true;
    return ++suspensions;
  }

  private void publish(Signal signal) {
    for (Subscriber s : subscribers) {
      try {
        s.onSignal(signal);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "recipe state subscriber threw on " + signal, e);
      }
    }
  }
}
