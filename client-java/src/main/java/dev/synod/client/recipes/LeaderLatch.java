package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.CreateResult;
import dev.synod.client.NoNodeException;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Leader election, latch style: every participant joins with {@link #start()} and stays a
 * candidate until {@link #close()}; exactly one at a time is the leader.
 *
 * <p>Each participant holds an ephemeral-sequential node {@code <path>/latch-<sequence>} whose
 * data is its participant id; the lowest sequence leads, and every other participant watches only
 * the node just before its own (no herd on failover). Leadership carries a fencing token, the
 * leader node's creation zxid, larger than that of every earlier leader of the path.
 *
 * <p>Leadership ends on {@link #close()} (the next participant takes over at once), on session
 * expiry, when the client is SUSPENDED past its session's confirmed time (jeopardy: the
 * latch cannot know that its session lives, so it steps down rather than risk two leaders), or
 * when its node is deleted. A short suspension keeps leadership. After jeopardy or a deleted node
 * the latch rejoins at the back of the queue once a server answers; after expiry it rejoins when
 * the client has a new session ({@code reconnectAfterExpiry} or {@code restartSession()}).
 *
 * <p>All the latch's work, and every {@link LeaderLatchListener} call, runs on one thread of its
 * own.
 */
public final class LeaderLatch implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LeaderLatch.class.getName());
  static final String PREFIX = "latch-";
  private static final long RETRY_MS = 100;

  private enum Lifecycle { LATENT, STARTED, CLOSED }

  private final LockQueue queue;
  private final String participantId;
  private final ScheduledThreadPoolExecutor thread;
  private final List<LeaderLatchListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>(Lifecycle.LATENT);
  private final ClientMonitor.Subscriber subscriber = signal -> submit(() -> onSignal(signal));
  private final Object leadershipChanged = new Object();

  // Written only on the latch thread.
  private volatile String ownPath;
  private volatile long ownSession;
  private volatile long ownToken;
  private volatile boolean leader;
  private long generation; // a watch set for an older state of the queue is ignored
  private boolean rejoinOnReconnect;

  /**
   * A latch on {@code path} for this participant ({@code participantId} is what
   * {@link #currentLeader()} and {@link #participants()} show; make it unique per participant).
   */
  public LeaderLatch(SynodClient client, String path, String participantId) {
    this(client, path, participantId, List.of());
  }

  /** A latch whose nodes get {@code acl} (empty: the server's default ACL). */
  public LeaderLatch(SynodClient client, String path, String participantId, List<Acl> acl) {
    if (participantId == null || participantId.isEmpty()) {
      throw new IllegalArgumentException("participantId must be non-empty");
    }
    this.queue = new LockQueue(client, path, Set.of(PREFIX), acl);
    this.participantId = participantId;
    this.thread = RecipeThreads.scheduled("synod-leader-latch " + path + " " + participantId);
  }

  /** Adds a listener (before or after start). */
  public void addListener(LeaderLatchListener listener) {
    if (listener == null) {
      throw new IllegalArgumentException("listener is null");
    }
    listeners.add(listener);
  }

  /** Joins the election (returns at once). */
  public void start() {
    if (!lifecycle.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
      throw new IllegalStateException("a LeaderLatch can be started once; it is " + lifecycle.get());
    }
    queue.monitor.subscribe(subscriber);
    submit(this::join);
  }

  /** True while this participant leads (and its session is not in doubt). */
  public boolean hasLeadership() {
    return leader && lifecycle.get() == Lifecycle.STARTED && queue.client.sessionId() == ownSession
        && !queue.monitor.inJeopardy();
  }

  /** The fencing token of the current leadership, or 0 when this participant is not the leader. */
  public long fencingToken() {
    return hasLeadership() ? ownToken : 0;
  }

  /**
   * Waits up to {@code timeout} for leadership; true if this participant leads. If interrupted it
   * returns at once (with the interrupt flag set) answering {@link #hasLeadership()}.
   */
  public boolean await(Duration timeout) {
    long deadline = Wakeup.deadline(timeout.isNegative() ? Duration.ZERO : timeout);
    synchronized (leadershipChanged) {
      while (!hasLeadership() && lifecycle.get() != Lifecycle.CLOSED) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(leadershipChanged, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    return hasLeadership();
  }

  /** The participant id of the current leader (read from the server), if any. */
  public Optional<String> currentLeader() {
    for (int attempt = 0; attempt < 10; attempt++) {
      List<LockQueue.Entry> all = queue.entries();
      if (all.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(new String(queue.client.getData(queue.pathOf(all.get(0).name())).data(), UTF_8));
      } catch (NoNodeException gone) {
        // the leader left between the two reads: look again
      }
    }
    throw new SynodException(null, "the leadership of " + queue.parent + " keeps changing", queue.parent);
  }

  /** Every participant's id in queue order (the leader first), read from the server. */
  public List<String> participants() {
    List<String> ids = new ArrayList<>();
    for (LockQueue.Entry e : queue.entries()) {
      try {
        ids.add(new String(queue.client.getData(queue.pathOf(e.name())).data(), UTF_8));
      } catch (NoNodeException gone) {
        // left meanwhile
      }
    }
    return ids;
  }

  public String participantId() {
    return participantId;
  }

  /** Leaves the election: steps down if leading and deletes this participant's node. Idempotent. */
  @Override
  public void close() {
    Lifecycle was = lifecycle.getAndSet(Lifecycle.CLOSED);
    if (was == Lifecycle.CLOSED) {
      return;
    }
    queue.monitor.unsubscribe(subscriber);
    if (was == Lifecycle.STARTED) {
      if (Thread.currentThread().getName().equals(threadName())) {
        leave(); // a listener closing the latch
      } else {
        Future<?> f = thread.submit(this::leave);
        try {
          f.get(Math.max(5_000, 2 * queue.client.sessionTimeout().toMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          LOG.log(Level.WARNING, "closing the latch on " + queue.parent + " did not finish cleanly", e);
        }
      }
    }
    thread.shutdown();
    synchronized (leadershipChanged) {
      leadershipChanged.notifyAll();
    }
  }

  // ===========================================================================================
  // On the latch thread

  private String threadName() {
    return "synod-leader-latch " + queue.parent + " " + participantId;
  }

  private void leave() {
    setLeader(false);
    generation++;
    String own = ownPath;
    ownPath = null;
    if (own != null && queue.client.sessionId() == ownSession) {
      queue.deleteQuietly(own);
    }
  }

  /** Creates this participant's node (replacing an old one) and looks at the queue. */
  private void join() {
    if (lifecycle.get() != Lifecycle.STARTED) {
      return;
    }
    leave();
    try {
      CreateResult own = queue.create(PREFIX, participantId.getBytes(UTF_8));
      ownPath = own.path();
      ownSession = own.stat().getEphemeralOwner();
      ownToken = own.stat().getCzxid();
      rejoinOnReconnect = false;
      check();
    } catch (SessionExpiredException e) {
      LOG.fine(() -> "latch " + queue.parent + ": no session; rejoining when the client has a new one");
    } catch (SynodException e) {
      retryLater(this::join, RecipeNodes.retryDelayMs(LOG, "latch " + queue.parent + ": join", e, RETRY_MS));
    }
  }

  /** Leads if first; otherwise watches the predecessor. */
  private void check() {
    String own = ownPath;
    if (lifecycle.get() != Lifecycle.STARTED || own == null) {
      return;
    }
    long gen = ++generation;
    try {
      while (true) {
        List<LockQueue.Entry> all = queue.entries();
        int index = LockQueue.indexOf(all, LockQueue.nameOf(own));
        if (index < 0) {
          LOG.info(() -> "latch " + queue.parent + ": node " + own + " is gone; rejoining");
          ownPath = null;
          join();
          return;
        }
        if (index == 0) {
          setLeader(true);
          // Watch our own node too: if someone deletes it, leadership is over.
          queue.client.getData(own, event -> submit(() -> {
            if (gen == generation) {
              check();
            }
          }));
          return;
        }
        setLeader(false);
        String predecessor = queue.pathOf(all.get(index - 1).name());
        try {
          queue.client.getData(predecessor, event -> submit(() -> {
            if (gen == generation) {
              check();
            }
          }));
          return;
        } catch (NoNodeException gone) {
          // it left between the two reads: look again
        }
      }
    } catch (SessionExpiredException e) {
      setLeader(false);
    } catch (NoNodeException e) {
      submit(this::check); // our own node vanished between the reads
    } catch (SynodException e) {
      retryLater(this::check, RecipeNodes.retryDelayMs(LOG, "latch " + queue.parent + ": check", e, RETRY_MS));
    }
  }

  private void onSignal(ClientMonitor.Signal signal) {
    if (lifecycle.get() != Lifecycle.STARTED) {
      return;
    }
    switch (signal) {
      case EXPIRED, CLOSED -> {
        setLeader(false);
        ownPath = null; // went with the session
        generation++;
      }
      case JEOPARDY -> {
        setLeader(false);
        rejoinOnReconnect = true; // our node may still exist, with its place in the queue
        generation++;
      }
      case CONNECTED -> join(); // a new session
      case RECONNECTED -> {
        if (rejoinOnReconnect) {
          join();
        } else {
          check();
        }
      }
      case SUSPENDED -> { }
    }
  }

  private void setLeader(boolean now) {
    if (leader == now) {
      return;
    }
    leader = now;
    long token = ownToken;
    LOG.info(() -> "latch " + queue.parent + ": " + participantId + (now ? " leads, token " + token : " no longer leads"));
    synchronized (leadershipChanged) {
      leadershipChanged.notifyAll();
    }
    for (LeaderLatchListener l : listeners) {
      try {
        if (now) {
          l.isLeader(token);
        } else {
          l.notLeader();
        }
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "LeaderLatchListener threw", e);
      }
    }
  }

  private void retryLater(Runnable task, long delayMs) {
    try {
      thread.schedule(task, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void submit(Runnable task) {
    try {
      thread.execute(task);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  @Override
  public String toString() {
    return "LeaderLatch[" + queue.parent + ", " + participantId + (hasLeadership() ? ", leader" : "") + "]";
  }
}
