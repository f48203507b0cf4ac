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
 * adds the one signal the client does not give, {@link Signal#JEOPARDY}: the client is SUSPENDED
 * and has heard from no server for longer than the session timeout, so it can no longer know that
 * its session (and with it any lock it holds) is alive. It is counted from the last message
 * heard, not from the SUSPENDED report (which comes only after two thirds of the timeout of
 * silence), because the servers' expiry clock started then too. Recipes subscribe and unsubscribe freely (the client's own
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
  // No reference to the client: the registry's weak key must be able to go.
  private volatile long timeoutNanos;
  // Written on the client's event thread (in state order), read anywhere: when the client last
  // heard from a server, as of the SUSPENDED report.
  private volatile long lastHeardNanos;
  private volatile boolean suspended;
  // The session the subscribers already know of: a CONNECTED report for it is not news. The
  // client reports its first CONNECTED on its event thread, which can reach a monitor created
  // just after blockUntilConnected() returned; treating that as "a new session" made a fresh
  // lease or leadership give itself up.
  private long knownSession;
  private volatile long suspensions;

  private ClientMonitor(SynodClient client) {
    this.timeoutNanos = client.sessionTimeout().toNanos();
    this.knownSession = client.sessionId();
    if (client.state() == ConnectionState.SUSPENDED) {
      markSuspended(client);
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

  /** True while the client is suspended and has heard from no server for longer than its session timeout. */
  boolean inJeopardy() {
    return suspended && System.nanoTime() - lastHeardNanos > timeoutNanos;
  }

  @Override
  public void stateChanged(SynodClient c, ConnectionState state) {
    timeoutNanos = c.sessionTimeout().toNanos(); // the negotiated one, once a session is open
    switch (state) {
      case SUSPENDED -> {
        long which = markSuspended(c);
        long leftNanos = Math.max(0, timeoutNanos - c.sinceLastHeard().toNanos());
        TIMER.schedule(() -> {
          if (suspended && suspensions == which) {
            publish(Signal.JEOPARDY);
          }
        }, TimeUnit.NANOSECONDS.toMillis(leftNanos) + 1, TimeUnit.MILLISECONDS);
        publish(Signal.SUSPENDED);
      }
      case RECONNECTED -> {
        suspended = false;
        publish(Signal.RECONNECTED);
      }
      case CONNECTED -> {
        suspended = false;
        if (isNewSession(c.sessionId())) {
          publish(Signal.CONNECTED);
        }
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

  private synchronized boolean isNewSession(long session) {
    if (session != 0 && session == knownSession) {
      return false;
    }
    knownSession = session;
    return true;
  }

  private synchronized long markSuspended(SynodClient client) {
    lastHeardNanos = System.nanoTime() - client.sinceLastHeard().toNanos();
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
