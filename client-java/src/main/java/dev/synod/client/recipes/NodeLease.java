package dev.synod.client.recipes;

import dev.synod.api.v1.EventType;
import dev.synod.client.NoNodeException;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodException;
import dev.synod.client.WatchedEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link Lease} held through one ephemeral node. It watches its own node (deletion by someone
 * else = lost) and the client's state (expiry, a new session, jeopardy = lost).
 */
final class NodeLease implements Lease {
  private static final Logger LOG = Logger.getLogger(NodeLease.class.getName());

  private enum State { HELD, RELEASED, LOST }

  private static final String JEOPARDY =
      "the client is suspended and the time the servers confirmed its session for has run out";

  private final LockQueue queue;
  private final String path;
  private final long token;
  private final long session;
  private final Executor listenerThread;
  private final ClientMonitor.Subscriber subscriber = this::onSignal;
  private final List<Runnable> listeners = new ArrayList<>();
  private State state = State.HELD;
  private String lostBecause;
  private boolean rewatchOnReconnect;

  NodeLease(LockQueue queue, String path, long token, long session, Executor listenerThread) {
    this.queue = queue;
    this.path = path;
    this.token = token;
    this.session = session;
    this.listenerThread = listenerThread;
  }

  /** Starts watching; call once, right after acquiring. */
  NodeLease start() {
    queue.monitor.subscribe(subscriber);
    if (queue.client.sessionId() != session) {
      lose("the session ended");
    } else if (queue.monitor.inJeopardy()) {
      lose(JEOPARDY);
    } else {
      watchNode();
    }
    return this;
  }

  @Override
  public long fencingToken() {
    return token;
  }

  @Override
  public String nodePath() {
    return path;
  }

  @Override
  public boolean isValid() {
    synchronized (this) {
      if (state != State.HELD) {
        return false;
      }
    }
    return queue.client.sessionId() == session && !queue.monitor.inJeopardy();
  }

  @Override
  public void onLost(Runnable listener) {
    if (listener == null) {
      throw new IllegalArgumentException("listener is null");
    }
    synchronized (this) {
      if (state != State.LOST) {
        listeners.add(listener);
        return;
      }
    }
    run(listener);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (state != State.HELD) {
        return;
      }
      state = State.RELEASED;
    }
    queue.monitor.unsubscribe(subscriber);
    if (queue.client.sessionId() == session) {
      queue.deleteQuietly(path);
    }
  }

  /** Why the lease was lost, or null. */
  synchronized String lostBecause() {
    return lostBecause;
  }

  private void watchNode() {
    queue.client.getDataAsync(path, this::onNodeEvent).whenComplete((data, failure) -> {
      if (failure == null) {
        return;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof NoNodeException) {
        lose("its node " + path + " was deleted");
      } else if (cause instanceof SessionExpiredException) {
        lose("the session expired");
      } else if (cause instanceof SynodException) {
        // The client gave up on the read (no server for a while): jeopardy or expiry will decide;
        // look again once a server answers.
        LOG.log(Level.FINE, "could not watch " + path + "; retrying on reconnect", cause);
        synchronized (this) {
          rewatchOnReconnect = true;
        }
      }
    });
  }

  private void onNodeEvent(WatchedEvent event) {
    if (event.type() == EventType.NODE_DELETED) {
      lose("its node " + path + " was deleted");
    } else if (isHeld()) {
      watchNode(); // a data change: keep watching
    }
  }

  private void onSignal(ClientMonitor.Signal signal) {
    switch (signal) {
      case EXPIRED -> lose("the session expired");
      case CLOSED -> lose("the client was closed");
      case CONNECTED -> lose("the session was replaced by a new one");
      case JEOPARDY -> {
        if (lose(JEOPARDY)) {
          // If the session survives after all, release the node once a server is reachable, so
          // that the next contender is not kept waiting for a holder that has given up.
          queue.client.deleteAsync(path, -1).exceptionally(t -> null);
        }
      }
      case RECONNECTED -> {
        boolean again;
        synchronized (this) {
          again = rewatchOnReconnect && state == State.HELD;
          rewatchOnReconnect = false;
        }
        if (again) {
          watchNode();
        }
      }
      case SUSPENDED -> { }
    }
  }

  private synchronized boolean isHeld() {
    return state == State.HELD;
  }

  /** Marks the lease lost (once) and runs the listeners; true if this call lost it. */
  private boolean lose(String why) {
    List<Runnable> toRun;
    synchronized (this) {
      if (state != State.HELD) {
        return false;
      }
      state = State.LOST;
      lostBecause = why;
      toRun = new ArrayList<>(listeners);
      listeners.clear();
    }
    queue.monitor.unsubscribe(subscriber);
    LOG.info(() -> "lease " + path + " (token " + token + ") lost: " + why);
    toRun.forEach(this::run);
    return true;
  }

  private void run(Runnable listener) {
    try {
      listenerThread.execute(() -> {
        try {
          listener.run();
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "onLost listener of " + path + " threw", e);
        }
      });
    } catch (RejectedExecutionException e) {
      LOG.log(Level.WARNING, "onLost listener of " + path + " not run: its recipe is closed", e);
    }
  }

  @Override
  public String toString() {
    return "Lease[" + path + ", token " + token + (isValid() ? "" : ", invalid") + "]";
  }
}
