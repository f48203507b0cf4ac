package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Leader election, listener style: when this participant wins, its
 * {@link LeaderSelectorListener#takeLeadership} runs on the selector's own thread, and leadership
 * is held until the method returns. Then the selector leaves the election, or, with
 * {@link #autoRequeue()}, queues again behind the other participants.
 *
 * <p>Underneath is a {@link Mutex} on {@code path} whose node data is the participant id; the
 * {@link Leadership} handed over carries that node's fencing token. If leadership is lost while
 * the listener runs (session expiry, jeopardy, the node deleted; see {@link Lease}) the
 * selector's thread is interrupted and {@link Leadership#isValid()} turns false. {@link #close()}
 * interrupts the listener, releases leadership and leaves the election.
 */
public final class LeaderSelector implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LeaderSelector.class.getName());
  private static final long RETRY_MS = 100;

  private enum Lifecycle { LATENT, STARTED, CLOSED }

  private final SynodClient client;
  private final Mutex mutex;
  private final String participantId;
  private final LeaderSelectorListener listener;
  private final Thread thread;
  private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>(Lifecycle.LATENT);
  private volatile boolean autoRequeue;
  private volatile Lease current;

  public LeaderSelector(SynodClient client, String path, String participantId, LeaderSelectorListener listener) {
    this(client, path, participantId, listener, List.of());
  }

  /** A selector whose nodes get {@code acl}, as a {@link Mutex#Mutex(SynodClient, String, List) Mutex}'s do. */
  public LeaderSelector(SynodClient client, String path, String participantId, LeaderSelectorListener listener,
      List<Acl> acl) {
    if (participantId == null || participantId.isEmpty()) {
      throw new IllegalArgumentException("participantId must be non-empty");
    }
    if (listener == null) {
      throw new IllegalArgumentException("listener is null");
    }
    this.client = client;
    byte[] data = participantId.getBytes(UTF_8);
    this.mutex = new Mutex(client, path, () -> data, acl);
    this.participantId = participantId;
    this.listener = listener;
    this.thread = RecipeThreads.daemon("synod-leader-selector " + path + " " + participantId).newThread(this::run);
  }

  /** After each leadership ends, queue again for the next one (until closed). */
  public LeaderSelector autoRequeue() {
    this.autoRequeue = true;
    return this;
  }

  /** Joins the election (returns at once). */
  public void start() {
    if (!lifecycle.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
      throw new IllegalStateException("a LeaderSelector can be started once; it is " + lifecycle.get());
    }
    thread.start();
  }

  /** True while this participant's takeLeadership is running with valid leadership. */
  public boolean hasLeadership() {
    Lease l = current;
    return l != null && l.isValid();
  }

  public String participantId() {
    return participantId;
  }

  /** Interrupts a running takeLeadership, releases leadership and leaves the election. Idempotent. */
  @Override
  public void close() {
    Lifecycle was = lifecycle.getAndSet(Lifecycle.CLOSED);
    if (was != Lifecycle.STARTED) {
      return;
    }
    thread.interrupt();
    if (Thread.currentThread() != thread) {
      try {
        thread.join(Math.max(5_000, 2 * client.sessionTimeout().toMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (thread.isAlive()) {
        LOG.warning(() -> "takeLeadership of " + participantId + " ignores interrupts; leadership is released "
            + "when it returns");
      }
    }
  }

  private boolean running() {
    return lifecycle.get() == Lifecycle.STARTED;
  }

  private void run() {
    while (running()) {
      Lease lease;
      try {
        lease = mutex.acquire();
      } catch (InterruptedException e) {
        continue; // closed, or a stray interrupt: the loop condition decides
      } catch (SessionExpiredException e) {
        pause(RETRY_MS); // wait for a new session (reconnectAfterExpiry or restartSession())
        continue;
      } catch (SynodException e) {
        pause(RecipeNodes.retryDelayMs(LOG, "leader selector " + participantId + " on " + mutex.path() + ": acquire",
            e, RETRY_MS));
        continue;
      }
      synchronized (this) {
        current = lease;
      }
      lease.onLost(() -> {
        synchronized (this) {
          if (current == lease) { // not a stale loss reaching the next leadership
            thread.interrupt();
          }
        }
      });
      try {
        if (running()) {
          listener.takeLeadership(new Leadership() {
            @Override
            public long fencingToken() {
              return lease.fencingToken();
            }

            @Override
            public boolean isValid() {
              return lease.isValid() && running();
            }

            @Override
            public String toString() {
              return "Leadership[" + participantId + ", token " + lease.fencingToken() + "]";
            }
          });
        }
      } catch (InterruptedException e) {
        LOG.fine(() -> "takeLeadership of " + participantId + " interrupted");
      } catch (Exception e) {
        LOG.log(Level.WARNING, "takeLeadership of " + participantId + " threw; leadership released", e);
      } finally {
        synchronized (this) {
          current = null;
        }
        lease.close();
        Thread.interrupted(); // an interrupt for the leadership just ended must not hit the next wait
      }
      if (!autoRequeue) {
        break;
      }
    }
    lifecycle.compareAndSet(Lifecycle.STARTED, Lifecycle.CLOSED);
  }

  private void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      // closing: the loop condition decides
    }
  }

  @Override
  public String toString() {
    return "LeaderSelector[" + mutex.path() + ", " + participantId + (hasLeadership() ? ", leader" : "") + "]";
  }
}
