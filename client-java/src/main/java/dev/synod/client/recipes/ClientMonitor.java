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
 * and the time for which the servers confirmed its session ({@link SynodClient#confirmedTimeLeft()})
 * has run out, so it can no longer know that its session (and with it any lock it holds) is alive.
 * It is not counted from the last message heard: a server cut off from the leader may keep
 * answering while the majority expires the session. Recipes subscribe and unsubscribe freely (the
 * client's own listener list only grows). Subscribers are called on the client's event thread or on
 * the shared jeopardy timer thread and must only hand work on.
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
    /** Suspended past the session's confirmed time: treat ownership as lost. */
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
  // Written on the client's event thread (in state order), read anywhere: when the session's
  // confirmed time runs out, as of the SUSPENDED report (it cannot grow while suspended without
  // a RECONNECTED report following).
  private volatile long confirmedUntilNanos;
  private volatile boolean suspended;
  // The session the subscribers already know of: a CONNECTED report for it is not news. The
  // client reports its first CONNECTED on its event thread, which can reach a monitor created
  // just after blockUntilConnected() returned; treating that as "a new session" made a fresh
  // lease or leadership give itself up.
  private long knownSession;
  private volatile long suspensions;

  private ClientMonitor(SynodClient client) {
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

  /** True while the client is suspended and the session's confirmed time has run out. */
  boolean inJeopardy() {
    return suspended && System.nanoTime() - confirmedUntilNanos >= 0;
  }

  @Override
  public void stateChanged(SynodClient c, ConnectionState state) {
    switch (state) {
      case SUSPENDED -> {
        long which = markSuspended(c);
        long leftNanos = Math.max(0, confirmedUntilNanos - System.nanoTime());
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
    confirmedUntilNanos = System.nanoTime() + client.confirmedTimeLeft().toNanos();
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
