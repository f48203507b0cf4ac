package dev.synod.server.state;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
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

/**
 * Watch registrations and which of them a change fires. Local state: not replicated, not in
 * snapshots. Thread-safe on its own (every method is synchronized) because reads register watches
 * from several threads at once under the state machine's read lock; firing happens under its write
 * lock, so no registration can slip between a change and its events.
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
  /** path → watcher id (sorted: dispatch order) → that watcher's kinds there, with include_data. */
  private final Map<String, NavigableMap<Long, EnumMap<WatchKind, Boolean>>> byPath =
      new HashMap<>();
  /** watcher id → the paths where it has registrations, and how many (path, kind) pairs in all. */
  private final Map<Long, Watcher> byWatcher = new HashMap<>();
  /** watcher id → who it is, for the READ check of persistent registrations. */
  private final Map<Long, Identities> identities = new HashMap<>();
  private int total;
  private int recursiveTotal;

  private static final class Watcher {
    final Set<String> paths = new HashSet<>();
    int count;
  }

  /** What one change fired for one watcher. */
  private static final class Fired {
    final List<WatchTarget> targets = new ArrayList<>(2);
    boolean includeData;
  }

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
   * takes effect, atomically with it (used to replay history first).
   */
  synchronized void register(long watcherId, Identities who, String path, WatchKind kind,
      boolean includeData, Runnable beforeRegister) throws SynodException {
    NavigableMap<Long, EnumMap<WatchKind, Boolean>> atPath = byPath.get(path);
    EnumMap<WatchKind, Boolean> kinds = atPath == null ? null : atPath.get(watcherId);
    boolean isNew = kinds == null || !kinds.containsKey(kind);
    Watcher watcher = byWatcher.get(watcherId);
    if (isNew && watcher != null && watcher.count >= perWatcherMax) {
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
    kinds.put(kind, includeData);
    identities.put(watcherId, who);
    if (isNew) {
      if (watcher == null) {
        watcher = new Watcher();
        byWatcher.put(watcherId, watcher);
      }
      watcher.paths.add(path);
      watcher.count++;
      total++;
      if (kind == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
        recursiveTotal++;
      }
    }
  }

  /** Removes one kind (or, for WATCH_KIND_UNSPECIFIED, every kind) at a path; returns how many. */
  synchronized int remove(long watcherId, String path, WatchKind kind) {
    NavigableMap<Long, EnumMap<WatchKind, Boolean>> atPath = byPath.get(path);
    EnumMap<WatchKind, Boolean> kinds = atPath == null ? null : atPath.get(watcherId);
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
  }

  /** Drops every registration of a watcher (its session ended, or its Watch stream closed). */
  synchronized void removeWatcher(long watcherId) {
    Watcher watcher = byWatcher.get(watcherId);
    if (watcher == null) {
      return;
    }
    for (String path : List.copyOf(watcher.paths)) {
      remove(watcherId, path, WatchKind.WATCH_KIND_UNSPECIFIED);
    }
  }

  /** The watcher proved more identities (add_auth): its persistent watches now judge by these. */
  synchronized void setIdentities(long watcherId, Identities who) {
    if (byWatcher.containsKey(watcherId)) {
      identities.put(watcherId, who);
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

  synchronized int count() {
    return total;
  }

  synchronized void clear() {
    byPath.clear();
    byWatcher.clear();
    identities.clear();
    total = 0;
    recursiveTotal = 0;
  }

  /**
   * Fires the registrations {@code change} triggers and hands each watcher at most one event
   * listing all of them, watchers in ascending id order.
   */
  synchronized void fire(Change change, WatchDispatcher dispatcher) {
    if (total == 0) {
      return;
    }
    NavigableMap<Long, Fired> fired = new TreeMap<>();
    collect(change.path(), change, fired);
    if (recursiveTotal > 0 && change.type() != EventType.NODE_CHILDREN_CHANGED) {
      for (String p = change.path(); !Paths.ROOT.equals(p); ) {
        p = Paths.parent(p);
        collect(p, change, fired);
      }
    }
    for (Map.Entry<Long, Fired> entry : fired.entrySet()) {
      Fired f = entry.getValue();
      dispatcher.dispatch(entry.getKey(), change.toWatchEvent(f.includeData, f.targets));
    }
  }

  private void collect(String watchPath, Change change, NavigableMap<Long, Fired> out) {
    NavigableMap<Long, EnumMap<WatchKind, Boolean>> atPath = byPath.get(watchPath);
    if (atPath == null) {
      return;
    }
    for (Iterator<Map.Entry<Long, EnumMap<WatchKind, Boolean>>> watchers =
        atPath.entrySet().iterator(); watchers.hasNext(); ) {
      Map.Entry<Long, EnumMap<WatchKind, Boolean>> entry = watchers.next();
      long watcherId = entry.getKey();
      EnumMap<WatchKind, Boolean> kinds = entry.getValue();
      for (Iterator<Map.Entry<WatchKind, Boolean>> it = kinds.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<WatchKind, Boolean> registration = it.next();
        WatchKind kind = registration.getKey();
        if (!fires(kind, watchPath, change.type(), change.path())) {
          continue;
        }
        if (!isOneShot(kind) && !mayRead(watcherId, change)) {
          continue;
        }
        Fired f = out.computeIfAbsent(watcherId, id -> new Fired());
        f.targets.add(WatchTarget.newBuilder().setPath(watchPath).setKind(kind).build());
        f.includeData |= registration.getValue();
        if (isOneShot(kind)) {
          it.remove();
          forget(watcherId, kind);
        }
      }
      if (kinds.isEmpty()) {
        watchers.remove();
        Watcher watcher = byWatcher.get(watcherId); // null once its last registration went
        if (watcher != null) {
          watcher.paths.remove(watchPath);
        }
      }
    }
    if (atPath.isEmpty()) {
      byPath.remove(watchPath);
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

  private void pruneEmpty(String path, NavigableMap<Long, EnumMap<WatchKind, Boolean>> atPath,
      long watcherId, EnumMap<WatchKind, Boolean> kinds) {
    if (!kinds.isEmpty()) {
      return;
    }
    atPath.remove(watcherId);
    Watcher watcher = byWatcher.get(watcherId);
    if (watcher != null) {
      watcher.paths.remove(path);
    }
    if (atPath.isEmpty()) {
      byPath.remove(path);
    }
  }
}
