package dev.synod.server.state;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Watch registrations, which of them a change fires, and the fan-out of the events. Local state:
 * not replicated, not in snapshots. Thread-safe on its own (one fair lock, every method takes it)
 * because reads register watches from several threads at once under the state machine's read
 * lock, and the fan-out runs on a thread of its own.
 *
 * <h2>Fan-out outside the state lock</h2>
 * Apply, under the state machine's write lock, only {@link #journal}s each change (one entry,
 * whatever the number of watchers) with a sequence number. The per-watcher work happens later
 * and elsewhere, in change order for every watcher, by whichever comes first:
 * <ul>
 *   <li>the fan-out ({@link #fanOutSome}), which walks the pending changes in order, and the
 *       watchers of each in ascending id order, a bounded number at a time so that registrations
 *       and the pulls below wait for one chunk at most;
 *   <li>a pull ({@link #deliverPending}) by the watcher itself just before something that may
 *       show the new data is sent to it (its write's response, its read's response, its session's
 *       end): that is what keeps ZooKeeper's guarantee, a client sees the event before any
 *       response that shows the change, without making anyone wait for the whole fan-out.
 * </ul>
 * Each watcher remembers the first sequence number it has not yet been given ({@code nextSeq}),
 * so a change reaches a watcher once, whichever path got there first. Each registration remembers
 * the first sequence number that may fire it ({@code fromSeq}: the number the next journaled
 * change gets): a change that was applied before the read that registered it (and which that
 * read therefore shows) never fires it, even when the fan-out reaches the change later.
 *
 * <p>Which registrations a change fires (ZooKeeper's rules):
 * <ul>
 *   <li>NODE_CREATED: EXISTS on the path;
 *   <li>NODE_DELETED: DATA, EXISTS and CHILDREN on the path;
 *   <li>NODE_DATA_CHANGED: DATA and EXISTS on the path;
 *   <li>NODE_CHILDREN_CHANGED (of the parent): CHILDREN on the parent;
 *   <li>WATCH_PERSISTENT: every type, on exactly its path;
 *   <li>WATCH_PERSISTENT_RECURSIVE: created, deleted and data-changed on its path and below, never
 *       children-changed.
 * </ul>
 * One-shot registrations (DATA, EXISTS, CHILDREN) are gone once fired.
 *
 * <p>Access: a persistent registration fires only for changes of nodes its watcher may READ
 * (the ACL the change carries: the node's after the change, or as it was before a delete),
 * judged by the identities the watcher held when it last registered or added an identity. One-shot
 * DATA and CHILDREN registrations were READ-checked when the read left them (ZooKeeper's rule);
 * EXISTS needs no permission.
 */
final class WatchManager {
  private final int perWatcherMax;
  /**
   * Fair, so that the fan-out, which takes it again right after each chunk, cannot starve a read
   * (which holds the state's read lock, and so holds up the next write) waiting to register.
   */
  private final ReentrantLock lock = new ReentrantLock(true);
  /** path → watcher id (sorted: dispatch order) → that watcher's registrations there. */
  private final Map<String, NavigableMap<Long, EnumMap<WatchKind, Registration>>> byPath =
      new HashMap<>();
  /** watcher id → the paths where it has registrations, how many in all, its fan-out cursor. */
  private final Map<Long, Watcher> byWatcher = new HashMap<>();
  /** watcher id → who it is, for the READ check of persistent registrations. */
  private final Map<Long, Identities> identities = new HashMap<>();
  /** Changes journaled and not yet fanned out to every watcher, in sequence order. */
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  /**
   * {@code pending.size()}, readable without the lock: a pull finding 0 has nothing to deliver
   * and does not wait for the fan-out's chunk. Changes are journaled only under the state's write
   * lock and pulls run under the state's read or write lock, so a pull never misses one journaled
   * before it; a stale higher count (the fan-out just finished one) only costs taking the lock.
   */
  private volatile int pendingCount;
  /** The fan-out's place in the head of {@link #pending}: the last watcher id it handled. */
  private long fanOutAfterId = Long.MIN_VALUE;
  /** The sequence number of the next journaled change. */
  private long nextSeq;
  private int total;
  private int recursiveTotal;

  /** One (path, kind) registration of a watcher. */
  private record Registration(boolean includeData, long fromSeq) {}

  private static final class Watcher {
    final Set<String> paths = new HashSet<>();
    int count;
    /** The first journaled change this watcher has not been given yet (fired or skipped). */
    long nextSeq;

    Watcher(long nextSeq) {
      this.nextSeq = nextSeq;
    }
  }

  /**
   * A journaled change and the paths whose registrations it may fire: its own, then (when a
   * recursive watch existed as it was journaled) its ancestors up to the root.
   */
  private record Pending(Change change, long seq, List<String> watchPaths) {}

  WatchManager(int perWatcherMax) {
    this.perWatcherMax = perWatcherMax;
  }

  /** True when a registration of {@code kind} at {@code watchPath} fires for this change. */
  static boolean fires(WatchKind kind, String watchPath, EventType type, String eventPath) {
    if (kind == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
      return type != EventType.NODE_CHILDREN_CHANGED
          && (watchPath.equals(eventPath) || Paths.isAncestor(watchPath, eventPath));
    }
    if (!watchPath.equals(eventPath)) {
      return false;
    }
    return switch (kind) {
      case WATCH_DATA -> type == EventType.NODE_DELETED || type == EventType.NODE_DATA_CHANGED;
      case WATCH_EXISTS -> type == EventType.NODE_CREATED || type == EventType.NODE_DELETED
          || type == EventType.NODE_DATA_CHANGED;
      case WATCH_CHILDREN ->
          type == EventType.NODE_DELETED || type == EventType.NODE_CHILDREN_CHANGED;
      case WATCH_PERSISTENT -> true;
      default -> false;
    };
  }

  static boolean isOneShot(WatchKind kind) {
    return kind == WatchKind.WATCH_DATA || kind == WatchKind.WATCH_EXISTS
        || kind == WatchKind.WATCH_CHILDREN;
  }

  /**
   * Registers {@code (path, kind)} for a watcher; re-registering updates include_data and does not
   * count twice. Fails with TOO_MANY_WATCHES, changing nothing, when the watcher is at its limit.
   * {@code beforeRegister} runs once the limit check has passed, just before the registration
   * takes effect, atomically with it (used to replay history first). A new registration is fired
   * only by changes journaled after it: the caller's read shows every change before.
   */
  void register(long watcherId, Identities who, String path, WatchKind kind,
      boolean includeData, Runnable beforeRegister) throws SynodException {
    lock.lock();
    try {
      NavigableMap<Long, EnumMap<WatchKind, Registration>> atPath = byPath.get(path);
      EnumMap<WatchKind, Registration> kinds = atPath == null ? null : atPath.get(watcherId);
      Registration existing = kinds == null ? null : kinds.get(kind);
      Watcher watcher = byWatcher.get(watcherId);
      if (existing == null && watcher != null && watcher.count >= perWatcherMax) {
        throw new SynodException(ErrorReason.TOO_MANY_WATCHES, "cannot watch " + path
            + ": this " + (watcherId > 0 ? "session" : "Watch stream") + " already holds " + watcher.count
            + " watches, which is the limit (the server's watches-per-session-max); remove some first", path);
      }
      if (beforeRegister != null) {
        beforeRegister.run();
      }
      if (kinds == null) {
        kinds = new EnumMap<>(WatchKind.class);
        byPath.computeIfAbsent(path, p -> new TreeMap<>()).put(watcherId, kinds);
      }
      // An existing registration keeps its place: changes journaled since still fire it.
      kinds.put(kind, new Registration(includeData,
          existing == null ? nextSeq : existing.fromSeq()));
      identities.put(watcherId, who);
      if (existing == null) {
        if (watcher == null) {
          watcher = new Watcher(nextSeq);
          byWatcher.put(watcherId, watcher);
        }
        watcher.paths.add(path);
        watcher.count++;
        total++;
        if (kind == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
          recursiveTotal++;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Removes one kind (or, for WATCH_KIND_UNSPECIFIED, every kind) at a path; returns how many. */
  int remove(long watcherId, String path, WatchKind kind) {
    lock.lock();
    try {
      NavigableMap<Long, EnumMap<WatchKind, Registration>> atPath = byPath.get(path);
      EnumMap<WatchKind, Registration> kinds = atPath == null ? null : atPath.get(watcherId);
      if (kinds == null) {
        return 0;
      }
      int removed = 0;
      for (Iterator<WatchKind> it = kinds.keySet().iterator(); it.hasNext(); ) {
        WatchKind k = it.next();
        if (kind == WatchKind.WATCH_KIND_UNSPECIFIED || kind == k) {
          it.remove();
          removed++;
          forget(watcherId, k);
        }
      }
      pruneEmpty(path, atPath, watcherId, kinds);
      return removed;
    } finally {
      lock.unlock();
    }
  }

  /** Drops every registration of a watcher (its session ended, or its Watch stream closed). */
  void removeWatcher(long watcherId) {
    lock.lock();
    try {
      Watcher watcher = byWatcher.get(watcherId);
      if (watcher == null) {
        return;
      }
      for (String path : List.copyOf(watcher.paths)) {
        remove(watcherId, path, WatchKind.WATCH_KIND_UNSPECIFIED);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The watcher proved more identities (add_auth): its persistent watches now judge by these. */
  void setIdentities(long watcherId, Identities who) {
    lock.lock();
    try {
      if (byWatcher.containsKey(watcherId)) {
        identities.put(watcherId, who);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Whether a persistent registration of {@code watcherId} may deliver {@code change}. */
  private boolean mayRead(long watcherId, Change change) {
    return Acls.permits(change.acl(), Acls.READ, identities.getOrDefault(watcherId, Identities.ANONYMOUS));
  }

  /** The same rule for replays from history (the caller holds the identities). */
  static boolean mayRead(Identities who, Change change) {
    return Acls.permits(change.acl(), Acls.READ, who);
  }

  int count() {
    lock.lock();
    try {
      return total;
    } finally {
      lock.unlock();
    }
  }

  /** Changes journaled and not yet fanned out to every watcher. */
  int backlog() {
    lock.lock();
    try {
      return pending.size();
    } finally {
      lock.unlock();
    }
  }

  /** Drops every registration and every change not yet fanned out (the state was replaced). */
  void clear() {
    lock.lock();
    try {
      byPath.clear();
      byWatcher.clear();
      identities.clear();
      pending.clear();
      pendingCount = 0;
      fanOutAfterId = Long.MIN_VALUE;
      total = 0;
      recursiveTotal = 0;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Records a change for the fan-out, in O(depth of its path) whatever the number of watchers:
   * this is all apply does for watches under the state lock. A change that no registration can
   * match is not kept (a registration made later is fired only by later changes anyway).
   *
   * @return whether the change was kept, i.e. the fan-out has work
   */
  boolean journal(Change change) {
    lock.lock();
    try {
      if (total == 0) {
        return false;
      }
      List<String> watchPaths;
      if (recursiveTotal > 0 && change.type() != EventType.NODE_CHILDREN_CHANGED) {
        watchPaths = new ArrayList<>(4);
        for (String p = change.path(); ; p = Paths.parent(p)) {
          if (byPath.containsKey(p)) {
            watchPaths.add(p);
          }
          if (Paths.ROOT.equals(p)) {
            break;
          }
        }
      } else {
        watchPaths = byPath.containsKey(change.path()) ? List.of(change.path()) : List.of();
      }
      if (watchPaths.isEmpty()) {
        return false;
      }
      pending.add(new Pending(change, nextSeq++, watchPaths));
      pendingCount = pending.size();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Gives {@code watcherId} now, in order, the events of the pending changes up to
   * {@code throughZxid} that it has not been given yet: called before it is sent anything that may
   * show those changes. Costs a few map lookups per pending change, none per other watcher, and
   * nothing at all (not even this lock) while nothing is pending. Called under the state
   * machine's lock (read or write), which is what makes the lock-free check sound.
   */
  void deliverPending(long watcherId, long throughZxid, WatchDispatcher dispatcher) {
    if (pendingCount == 0) {
      return;
    }
    lock.lock();
    try {
      Watcher watcher = byWatcher.get(watcherId);
      if (watcher == null || pending.isEmpty()) {
        return;
      }
      for (Pending p : pending) {
        if (p.change().zxid() > throughZxid) {
          break;
        }
        if (p.seq() >= watcher.nextSeq) {
          fireFor(watcherId, p, dispatcher);
          watcher.nextSeq = p.seq() + 1;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fans out pending changes to at most {@code watchersMax} watchers, in change order and, within
   * a change, in ascending watcher id order; each watcher gets at most one event per change,
   * listing every registration it fired.
   *
   * @return whether changes remain pending
   */
  boolean fanOutSome(WatchDispatcher dispatcher, int watchersMax) {
    lock.lock();
    try {
      int visited = 0;
      while (visited < watchersMax && !pending.isEmpty()) {
        Pending head = pending.peek();
        Long next = nextWatcher(head, fanOutAfterId);
        if (next == null) {
          pending.poll();
          pendingCount = pending.size();
          fanOutAfterId = Long.MIN_VALUE;
          continue;
        }
        fanOutAfterId = next;
        visited++;
        Watcher watcher = byWatcher.get(next);
        if (watcher != null && head.seq() >= watcher.nextSeq) {
          fireFor(next, head, dispatcher);
          watcher.nextSeq = head.seq() + 1;
        }
      }
      return !pending.isEmpty();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The lowest watcher id above {@code afterId} registered at one of the change's paths. Looked up
   * afresh each time: registrations come and go between chunks.
   */
  private Long nextWatcher(Pending p, long afterId) {
    Long lowest = null;
    for (String watchPath : p.watchPaths()) {
      NavigableMap<Long, EnumMap<WatchKind, Registration>> atPath = byPath.get(watchPath);
      Long id = atPath == null ? null : atPath.higherKey(afterId);
      if (id != null && (lowest == null || id < lowest)) {
        lowest = id;
      }
    }
    return lowest;
  }

  /**
   * Fires what {@code p} fires of one watcher's registrations (one-shots are gone afterwards)
   * and hands it one event listing them all, if any.
   */
  private void fireFor(long watcherId, Pending p, WatchDispatcher dispatcher) {
    Change change = p.change();
    List<WatchTarget> targets = null;
    boolean includeData = false;
    for (String watchPath : p.watchPaths()) {
      NavigableMap<Long, EnumMap<WatchKind, Registration>> atPath = byPath.get(watchPath);
      EnumMap<WatchKind, Registration> kinds = atPath == null ? null : atPath.get(watcherId);
      if (kinds == null) {
        continue;
      }
      for (Iterator<Map.Entry<WatchKind, Registration>> it = kinds.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<WatchKind, Registration> registration = it.next();
        WatchKind kind = registration.getKey();
        if (registration.getValue().fromSeq() > p.seq()
            || !fires(kind, watchPath, change.type(), change.path())
            || (!isOneShot(kind) && !mayRead(watcherId, change))) {
          continue;
        }
        if (targets == null) {
          targets = new ArrayList<>(2);
        }
        targets.add(WatchTarget.newBuilder().setPath(watchPath).setKind(kind).build());
        includeData |= registration.getValue().includeData();
        if (isOneShot(kind)) {
          it.remove();
          forget(watcherId, kind);
        }
      }
      pruneEmpty(watchPath, atPath, watcherId, kinds);
    }
    if (targets != null) {
      dispatcher.dispatch(watcherId, change.toWatchEvent(includeData, targets));
    }
  }

  /** Counts one (path, kind) registration of a watcher as gone; the caller removed it. */
  private void forget(long watcherId, WatchKind kind) {
    Watcher watcher = byWatcher.get(watcherId);
    watcher.count--;
    total--;
    if (kind == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
      recursiveTotal--;
    }
    if (watcher.count == 0) {
      byWatcher.remove(watcherId);
      identities.remove(watcherId);
    }
  }

  private void pruneEmpty(String path, NavigableMap<Long, EnumMap<WatchKind, Registration>> atPath,
      long watcherId, EnumMap<WatchKind, Registration> kinds) {
    if (!kinds.isEmpty()) {
      return;
    }
    atPath.remove(watcherId);
    Watcher watcher = byWatcher.get(watcherId); // null once its last registration went
    if (watcher != null) {
      watcher.paths.remove(path);
    }
    if (atPath.isEmpty()) {
      byPath.remove(path);
    }
  }
}
