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

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final WatchDispatcher dispatcher;
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

  /** {@code limits} bound local state only; nothing apply decides depends on them. */
  public StateMachine(StateLimits limits, WatchDispatcher dispatcher) {
    this.dispatcher = dispatcher;
    this.sessions = new SessionTable();
    this.watches = new WatchManager(limits.watchesPerWatcherMax());
    this.history = new EventHistory(limits.historyEventsMax(), limits.historyBytesMax());
    this.applier = new TxnApplier(tree, sessions);
    this.reads = new ReadOps(tree, sessions, watches, history, dispatcher, limits);
  }

  /**
   * Applies the next Txn. Under the write lock it first dispatches the watch events the change
   * produced (and, for a closed session, its end), then hands the Response to {@code onResult}.
   * Expected failures are Responses with {@code error}; every Txn advances the zxid.
   *
   * <p>The Txn takes effect at max(decided time so far, its stamped time_ms): decided time never
   * decreases, even when a new leader's clock is behind the old one's, and every replica (also one
   * restored from a snapshot, which carries the decided time) computes the same.
   *
   * @throws IllegalStateException if {@code txn} is not the next zxid (a bug in the caller)
   */
  public void apply(Txn txn, Consumer<Response> onResult) {
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
        watches.fire(change, dispatcher);
      }
      if (outcome.endedSessionId() != 0) {
        watches.removeWatcher(outcome.endedSessionId());
        dispatcher.sessionEnded(outcome.endedSessionId(), outcome.expired(), lastZxid);
      }
      onResult.accept(outcome.response());
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Serves a read (get_data, exists, get_children, get_acl) or a watch change (add_watch,
   * remove_watch) for {@code watcherId} (a session id, a negative Watch-stream id, or 0 for
   * none). Calls {@code out} inside the read lock, so the response cannot overtake the watch
   * events of the state it shows.
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
