package dev.synod.server.state;

import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.server.auth.Identities;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.SessionRecord;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * The replicated state machine: the data tree, the session table, watches and the event history,
 * behind one read-write lock. Writes arrive as Txns in zxid order ({@link #apply}); reads and
 * watch registrations are served from the local state ({@link #read}). See package-info for the
 * contract.
 */
public final class StateMachine {
  /** A live session as the replicated state knows it. */
  public record SessionInfo(long id, long secret, long timeoutMs) {}

  /** A TTL node that looked expired; propose an ExpireTtlTxn(path, mzxid) for it. */
  public record TtlCandidate(String path, long mzxid) {}

  public record Stats(long lastZxid, long nodeCount, long sessionCount, long watchCount,
      long historyFloor) {}

  /**
   * Watchers the fan-out handles per hold of the watch registry's lock: a read that wants to
   * register a watch (and, behind it, the next write) waits for one chunk at most.
   */
  static final int FAN_OUT_CHUNK_WATCHERS = 128;

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final WatchDispatcher dispatcher;
  private final Executor fanOutExecutor;
  /** A fan-out task is queued or running (at most one: events keep their order). */
  private final AtomicBoolean fanOutScheduled = new AtomicBoolean();
  private final DataTree tree = new DataTree();
  private final SessionTable sessions;
  private final WatchManager watches;
  private final EventHistory history;
  private final TxnApplier applier;
  private final ReadOps reads;
  private long lastZxid;
  /**
   * The decided time: the effective time of the last applied Txn. Replicated state (identical on
   * every replica, in snapshots). Volatile so the leader's clock can read it without the lock.
   */
  private volatile long lastTimeMs;

  /**
   * A state machine whose watch fan-out runs on the applying thread, right after each apply has
   * released the lock (deterministic: tests and the simulator). A server passes an executor of
   * its own instead, so that the fan-out of many watches never holds up the next apply.
   */
  public StateMachine(StateLimits limits, WatchDispatcher dispatcher) {
    this(limits, dispatcher, Runnable::run);
  }

  /**
   * {@code limits} bound local state only; nothing apply decides depends on them.
   * {@code fanOutExecutor} runs the fan-out of watch events (one task at a time; it must run
   * tasks in order, and never on a thread that holds this state machine's lock).
   */
  public StateMachine(StateLimits limits, WatchDispatcher dispatcher, Executor fanOutExecutor) {
    this.dispatcher = dispatcher;
    this.fanOutExecutor = fanOutExecutor;
    this.sessions = new SessionTable();
    this.watches = new WatchManager(limits.watchesPerWatcherMax());
    this.history = new EventHistory(limits.historyEventsMax(), limits.historyBytesMax());
    this.applier = new TxnApplier(tree, sessions);
    this.reads = new ReadOps(tree, sessions, watches, history, dispatcher, limits);
  }

  /**
   * Applies the next Txn. Under the write lock it records the changes in the event history and
   * journals them for the watch fan-out (once per change, whatever the number of watchers), gives
   * the writing session its own pending events, ends a closed session (after its pending events),
   * then hands the Response to {@code onResult}. The fan-out to every other watcher runs after the
   * lock is released (see {@link WatchManager}); each watcher still gets its event before any
   * response that shows the change. Expected failures are Responses with {@code error}; every
   * Txn advances the zxid.
   *
   * <p>The Txn takes effect at max(decided time so far, its stamped time_ms): decided time never
   * decreases, even when a new leader's clock is behind the old one's, and every replica (also one
   * restored from a snapshot, which carries the decided time) computes the same.
   *
   * @throws IllegalStateException if {@code txn} is not the next zxid (a bug in the caller)
   */
  public void apply(Txn txn, Consumer<Response> onResult) {
    boolean journaled = false;
    lock.writeLock().lock();
    try {
      if (txn.getZxid() != lastZxid + 1) {
        throw new IllegalStateException(
            "txn zxid " + txn.getZxid() + " does not follow last applied zxid " + lastZxid);
      }
      long effectiveTimeMs = Math.max(lastTimeMs, txn.getTimeMs());
      TxnApplier.Outcome outcome = applier.apply(txn, effectiveTimeMs);
      lastZxid = txn.getZxid();
      lastTimeMs = effectiveTimeMs;
      for (Change change : outcome.changes()) {
        history.record(change);
        journaled |= watches.journal(change);
      }
      long ended = outcome.endedSessionId();
      if (ended != 0) {
        watches.deliverPending(ended, lastZxid, dispatcher);
        watches.removeWatcher(ended);
        dispatcher.sessionEnded(ended, outcome.expired(), lastZxid);
      }
      if (txn.getSessionId() != 0 && txn.getSessionId() != ended) {
        // The response shows the change: the writer's own events go first.
        watches.deliverPending(txn.getSessionId(), lastZxid, dispatcher);
      }
      onResult.accept(outcome.response());
    } finally {
      lock.writeLock().unlock();
    }
    if (journaled) {
      scheduleFanOut();
    }
  }

  private void scheduleFanOut() {
    if (fanOutScheduled.compareAndSet(false, true)) {
      fanOutExecutor.execute(this::fanOut);
    }
  }

  /** Fans out until nothing is pending; never under the state lock. */
  private void fanOut() {
    try {
      while (watches.fanOutSome(dispatcher, FAN_OUT_CHUNK_WATCHERS)) {
        // one chunk per hold of the registry's lock
      }
    } finally {
      fanOutScheduled.set(false);
    }
    // A change journaled after the last chunk but before the flag was cleared found it set.
    if (watches.backlog() > 0) {
      scheduleFanOut();
    }
  }

  /**
   * Serves a read (get_data, exists, get_children, get_acl) or a watch change (add_watch,
   * remove_watch) for {@code watcherId} (a session id, a negative Watch-stream id, or 0 for
   * none). The watcher's pending events up to the state the read shows are handed out first, and
   * {@code out} is called inside the read lock, so the response cannot overtake the watch events
   * of the state it shows.
   *
   * @throws IllegalArgumentException for any other request (the caller routes those elsewhere)
   */
  public void read(long watcherId, Request request, Consumer<Response> out) {
    read(watcherId, Identities.ANONYMOUS, request, out);
  }

  /**
   * {@link #read(long, Request, Consumer)} for a caller holding {@code who}: the node's ACL must
   * grant the op's permission (NO_AUTH otherwise), and the watches it leaves deliver only what
   * {@code who} may read.
   */
  public void read(long watcherId, Identities who, Request request, Consumer<Response> out) {
    lock.readLock().lock();
    try {
      if (watcherId != 0) {
        watches.deliverPending(watcherId, lastZxid, dispatcher);
      }
      out.accept(reads.read(watcherId, who, request, lastZxid));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Drops every watch of {@code watcherId}, e.g. when a sessionless Watch stream ends. */
  public void removeWatcher(long watcherId) {
    watches.removeWatcher(watcherId);
  }

  /** {@code watcherId} proved more identities: its persistent watches judge by {@code who} now. */
  public void setWatcherIdentities(long watcherId, Identities who) {
    watches.setIdentities(watcherId, who);
  }

  /** Changes applied whose watch events are not yet handed to every watcher. */
  public int fanOutBacklog() {
    return watches.backlog();
  }

  /** Subtrees over a soft quota, in path order (for Status). */
  public List<String> quotaWarnings() {
    lock.readLock().lock();
    try {
      return tree.quotas().warnings();
    } finally {
      lock.readLock().unlock();
    }
  }

  public long lastZxid() {
    lock.readLock().lock();
    try {
      return lastZxid;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The decided time (effective time of the last applied Txn); 0 before any. */
  public long lastTimeMs() {
    return lastTimeMs;
  }

  /**
   * A consistent view of the replicated state. The lock is held only while references to the
   * (immutable) nodes are captured in path order; paths and records are made as the snapshot is
   * iterated. Its slot is 0: the caller, which knows the slots, sets it with
   * {@link Snapshot#withSlot}.
   */
  public Snapshot snapshot() {
    lock.readLock().lock();
    try {
      return new Snapshot(lastZxid, 0, lastTimeMs, tree.capture(),
          List.copyOf(sessions.toRecords()));
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Replaces the whole state with a snapshot's. Only before serving: watches are dropped and the
   * event history restarts with its floor at the snapshot's zxid.
   *
   * @throws IllegalArgumentException if the snapshot is not a consistent tree
   */
  public void restore(Snapshot snapshot) {
    lock.writeLock().lock();
    try {
      watches.clear();
      try {
        tree.load(snapshot.nodeSource());
        sessions.load(snapshot.sessions());
        for (long owner : tree.ephemeralOwners()) {
          if (sessions.get(owner) == null) {
            throw new IllegalArgumentException(
                "snapshot has ephemeral nodes of unknown session " + owner);
          }
        }
      } catch (RuntimeException e) { // leave a fresh state rather than half a snapshot
        tree.reset();
        sessions.load(List.of());
        history.reset(0);
        lastZxid = 0;
        lastTimeMs = 0;
        throw e;
      }
      history.reset(snapshot.zxid());
      lastZxid = snapshot.zxid();
      lastTimeMs = snapshot.timeMs();
    } finally {
      lock.writeLock().unlock();
    }
  }

  public Optional<SessionInfo> session(long id) {
    lock.readLock().lock();
    try {
      SessionTable.Session s = sessions.get(id);
      return s == null ? Optional.empty() : Optional.of(info(s));
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Every live session, by ascending id. */
  public List<SessionInfo> sessions() {
    lock.readLock().lock();
    try {
      List<SessionInfo> all = new ArrayList<>(sessions.size());
      for (SessionTable.Session s : sessions.all()) {
        all.add(info(s));
      }
      return all;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Up to {@code max} TTL nodes, by path, that are childless and whose ttl has run out at
   * {@code nowMs}, a cluster time (the leader's {@code ClusterTime}, never a raw wall clock).
   * Apply re-checks all of it against the Txn's effective time, so a stale candidate is harmless.
   */
  public List<TtlCandidate> expiredTtlNodes(long nowMs, int max) {
    lock.readLock().lock();
    try {
      List<TtlCandidate> expired = new ArrayList<>();
      for (String path : tree.ttlPaths()) {
        if (expired.size() >= max) {
          break;
        }
        Node node = tree.get(path);
        if (node.kind() == NodeKind.TTL && node.numChildren == 0
            && TreeOps.isExpired(node, nowMs)) {
          expired.add(new TtlCandidate(path, node.mzxid));
        }
      }
      return expired;
    } finally {
      lock.readLock().unlock();
    }
  }

  public Stats stats() {
    lock.readLock().lock();
    try {
      return new Stats(lastZxid, tree.size(), sessions.size(), watches.count(), history.floor());
    } finally {
      lock.readLock().unlock();
    }
  }

  private static SessionInfo info(SessionTable.Session s) {
    return new SessionInfo(s.id, s.secret, s.timeoutMs);
  }
}
