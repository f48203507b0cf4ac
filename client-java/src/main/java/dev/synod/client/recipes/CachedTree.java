package dev.synod.client.recipes;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.client.ChildrenPage;
import dev.synod.client.ConnectionState;
import dev.synod.client.ConnectionStateListener;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import dev.synod.client.WatchHandle;
import dev.synod.client.WatchedEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The engine behind {@link NodeCache} (depth 0, a plain persistent watch) and {@link TreeCache}
 * (a recursive persistent watch): a local copy of a node or subtree kept current by ONE watch.
 *
 * <p>Consistency of the initial load with the watch (where ZooKeeper's TreeCache went wrong): the
 * watch is registered first, then the nodes are read. Every read answers the zxid of the state it
 * saw, so for every path the cache knows the zxid up to which it already reflects that path:
 * the read's zxid for a node read present, the zxid of a listing or read that showed it absent
 * otherwise (inherited from the nearest listed ancestor). An event is applied only if its zxid is
 * greater than that, so an event that raced with the load is neither lost (it is newer than the
 * read, or the read shows its effect) nor applied twice, and no stale value ever replaces a newer
 * one. Events are handed to the cache's single thread, queued behind a running load.
 *
 * <p>RESYNC_NEEDED (the server cannot replay what was missed while disconnected) and a new session
 * after an expiry trigger a full reload; the listener gets the differences and then a RELOADED
 * event. All state below is confined to the cache thread except {@link #view}, which readers use.
 */
final class CachedTree implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(CachedTree.class.getName());
  private static final long RETRY_MS = 200;

  private final SynodClient client;
  private final String root;
  private final int maxDepth;
  private final ScheduledExecutorService thread;
  private final List<CacheListener> listeners = new CopyOnWriteArrayList<>();
  private final ConnectionStateListener stateListener;
  private final CountDownLatch initialized = new CountDownLatch(1);
  /** What readers see: path to node, sorted (a path's descendants follow it). */
  private final ConcurrentSkipListMap<String, ChildData> view = new ConcurrentSkipListMap<>();

  // --- cache thread only
  private final Map<String, Known> known = new HashMap<>();
  private final Map<String, Long> absentAt = new HashMap<>();
  private long loadZxidMax;
  private WatchHandle watch;
  private boolean loaded;
  private boolean reloadPending;
  private CacheEvent.Type pendingCause;
  private volatile boolean closed;

  /** Per cached node: up to which zxid it is known, and up to which its children listing is. */
  private record Known(long zxid, long childrenZxid) {}

  CachedTree(SynodClient client, String root, int maxDepth) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    if (maxDepth < 0) {
      throw new IllegalArgumentException("maxDepth must be >= 0, got " + maxDepth);
    }
    this.client = client;
    this.root = RecipeNodes.requirePath(root, "path");
    this.maxDepth = maxDepth;
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
      Thread th = new Thread(r, "synod-cache " + root);
      th.setDaemon(true);
      return th;
    });
    t.setRemoveOnCancelPolicy(true);
    this.thread = t;
    this.stateListener = (c, state) -> onCacheThread(() -> onState(state));
  }

  void start() {
    client.addConnectionStateListener(stateListener);
    onCacheThread(() -> setUp(CacheEvent.Type.INITIALIZED));
  }

  void addListener(CacheListener listener) {
    listeners.add(listener);
  }

  void removeListener(CacheListener listener) {
    listeners.remove(listener);
  }

  boolean awaitInitialized(Duration timeout) throws InterruptedException {
    return initialized.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  ChildData get(String path) {
    return view.get(path);
  }

  /** The cached children names of {@code path}, sorted (empty if it is not cached). */
  List<String> children(String path) {
    String prefix = path.equals("/") ? "/" : path + "/";
    List<String> names = new ArrayList<>();
    for (String p : view.tailMap(prefix, false).keySet()) {
      if (!p.startsWith(prefix)) {
        break;
      }
      if (p.indexOf('/', prefix.length()) < 0) {
        names.add(p.substring(prefix.length()));
      }
    }
    return names;
  }

  NavigableMap<String, ChildData> snapshot() {
    return Collections.unmodifiableNavigableMap(new TreeMap<>(view));
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    client.removeConnectionStateListener(stateListener);
    CountDownLatch done = new CountDownLatch(1);
    try {
      thread.execute(() -> { // not onCacheThread: that skips tasks once closed
        if (watch != null) {
          watch.close();
          watch = null;
        }
        done.countDown();
      });
      done.await(5, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      // already shut down
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------
  // Cache thread

  private void onCacheThread(Runnable task) {
    try {
      thread.execute(() -> {
        if (closed) {
          return;
        }
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "cache of " + root + ": task failed", e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  /** Registers the watch (if needed), then loads; on failure tries again later. */
  private void setUp(CacheEvent.Type cause) {
    try {
      if (watch == null) {
        watch = client.addWatch(root, maxDepth > 0, true, event -> onCacheThread(() -> onEvent(event)));
      }
      load(cause);
      reloadPending = false;
    } catch (SynodException e) {
      reloadPending = true;
      pendingCause = cause;
      if (e.reason() != ErrorReason.SESSION_EXPIRED) {
        thread.schedule(() -> onCacheThread(this::retry),
            RecipeNodes.retryDelayMs(LOG, "cache of " + root + ": load", e, RETRY_MS), TimeUnit.MILLISECONDS);
      } else {
        LOG.log(Level.FINE, "cache of " + root + ": load failed; reloading on the next session", e);
      }
    }
  }

  private void retry() {
    if (reloadPending && client.state() != ConnectionState.EXPIRED) {
      setUp(pendingCause);
    }
  }

  private void onState(ConnectionState state) {
    switch (state) {
      case EXPIRED -> {
        if (loaded) {
          deliver(new CacheEvent(CacheEvent.Type.SESSION_EXPIRED, null));
          reloadPending = true;
          pendingCause = CacheEvent.Type.RELOADED_AFTER_EXPIRY;
        }
      }
      case CONNECTED, RECONNECTED -> {
        if (reloadPending) {
          setUp(pendingCause);
        }
      }
      default -> { }
    }
  }

  private void onEvent(WatchedEvent e) {
    if (e.type() == EventType.RESYNC_NEEDED) {
      if (loaded) {
        setUp(CacheEvent.Type.RELOADED_AFTER_RESYNC);
      }
      return;
    }
    if (!loaded || reloadPending || depthOf(e.path()) < 0 || depthOf(e.path()) > maxDepth) {
      return; // the coming load reads a state at least as new as this event
    }
    if (e.zxid() > loadZxidMax && !absentAt.isEmpty()) {
      absentAt.clear(); // every later event is newer than any read of the load
    }
    if (e.zxid() <= knownZxid(e.path())) {
      return; // the load already saw this change (or a newer one)
    }
    String path = e.path();
    switch (e.type()) {
      case NODE_CREATED, NODE_DATA_CHANGED -> {
        ChildData before = view.get(path);
        byte[] data = e.data() != null ? e.data() : before != null ? before.data() : new byte[0];
        ChildData now = new ChildData(path, data, e.stat());
        Known k = known.get(path);
        known.put(path, new Known(e.zxid(), k != null ? k.childrenZxid() : e.zxid()));
        absentAt.remove(path);
        view.put(path, now);
        deliver(new CacheEvent(before == null ? CacheEvent.Type.NODE_ADDED : CacheEvent.Type.NODE_UPDATED, now));
      }
      case NODE_DELETED -> removeSubtree(path);
      default -> { } // children changes show up as creates and deletes of the children
    }
  }

  private void removeSubtree(String path) {
    List<String> gone = new ArrayList<>();
    String prefix = path.equals("/") ? "/" : path + "/";
    if (view.containsKey(path)) {
      gone.add(path);
    }
    for (String p : view.tailMap(prefix, false).keySet()) {
      if (!p.startsWith(prefix)) {
        break;
      }
      gone.add(p);
    }
    Collections.reverse(gone); // children before their parent
    for (String p : gone) {
      ChildData last = view.remove(p);
      known.remove(p);
      if (last != null) {
        deliver(new CacheEvent(CacheEvent.Type.NODE_REMOVED, last));
      }
    }
  }

  /** The zxid up to which the cache already reflects {@code path} (see the class comment). */
  private long knownZxid(String path) {
    Known k = known.get(path);
    if (k != null) {
      return k.zxid();
    }
    Long absent = absentAt.get(path);
    if (absent != null) {
      return absent;
    }
    String p = path;
    while (!p.equals(root)) {
      p = RecipeNodes.parentOf(p);
      Known ancestor = known.get(p);
      if (ancestor != null) {
        return ancestor.childrenZxid();
      }
      absent = absentAt.get(p);
      if (absent != null) {
        return absent;
      }
    }
    return 0;
  }

  /** Depth of {@code path} below the root (0 = the root), or -1 if outside the subtree. */
  private int depthOf(String path) {
    if (path.equals(root)) {
      return 0;
    }
    String prefix = root.equals("/") ? "/" : root + "/";
    if (!path.startsWith(prefix)) {
      return -1;
    }
    int depth = 1;
    for (int i = prefix.length(); i < path.length(); i++) {
      if (path.charAt(i) == '/') {
        depth++;
      }
    }
    return depth;
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /** Reads the whole subtree, swaps it in and tells the listeners the differences, then {@code cause}. */
  private void load(CacheEvent.Type cause) {
    Map<String, Known> freshKnown = new HashMap<>();
    Map<String, Long> freshAbsent = new HashMap<>();
    TreeMap<String, ChildData> fresh = new TreeMap<>();
    long[] maxZxid = {0};
    loadNode(root, 0, fresh, freshKnown, freshAbsent, maxZxid);

    NavigableMap<String, ChildData> old = new TreeMap<>(view);
    known.clear();
    known.putAll(freshKnown);
    absentAt.clear();
    absentAt.putAll(freshAbsent);
    loadZxidMax = maxZxid[0];
    List<CacheEvent> diff = new ArrayList<>();
    for (Map.Entry<String, ChildData> gone : old.descendingMap().entrySet()) {
      if (!fresh.containsKey(gone.getKey())) {
        view.remove(gone.getKey());
        diff.add(new CacheEvent(CacheEvent.Type.NODE_REMOVED, gone.getValue()));
      }
    }
    for (ChildData now : fresh.values()) {
      ChildData before = old.get(now.path());
      view.put(now.path(), now);
      if (before == null) {
        diff.add(new CacheEvent(CacheEvent.Type.NODE_ADDED, now));
      } else if (before.stat().getMzxid() != now.stat().getMzxid() || before.stat().getCzxid() != now.stat().getCzxid()) {
        diff.add(new CacheEvent(CacheEvent.Type.NODE_UPDATED, now));
      }
    }
    loaded = true;
    diff.forEach(this::deliver);
    deliver(new CacheEvent(cause, null));
    initialized.countDown();
  }

  private void loadNode(String path, int depth, Map<String, ChildData> into, Map<String, Known> knownInto,
      Map<String, Long> absentInto, long[] maxZxid) {
    for (int attempt = 0; ; attempt++) {
      NodeData d;
      try {
        d = client.getData(path);
      } catch (NoNodeException gone) {
        long since = absentSince(path);
        if (since < 0 && attempt < 5) {
          continue; // re-created meanwhile: read it again
        }
        absentInto.put(path, Math.max(since, 0));
        maxZxid[0] = Math.max(maxZxid[0], since);
        return;
      }
      maxZxid[0] = Math.max(maxZxid[0], d.zxid());
      into.put(path, new ChildData(path, d.data(), d.stat()));
      if (depth >= maxDepth) {
        knownInto.put(path, new Known(d.zxid(), Long.MAX_VALUE));
        return;
      }
      ChildrenPage children;
      try {
        children = RecipeNodes.await(client.getChildrenAsync(path, null));
      } catch (NoNodeException deletedMeanwhile) {
        into.remove(path);
        continue; // read it again: absent (with the zxid that shows it) or re-created
      }
      maxZxid[0] = Math.max(maxZxid[0], children.zxid());
      knownInto.put(path, new Known(d.zxid(), children.zxid()));
      for (String child : children.children()) {
        loadNode(RecipeNodes.join(path, child), depth + 1, into, knownInto, absentInto, maxZxid);
      }
      return;
    }
  }

  /**
   * The zxid of a listing of {@code path}'s parent (or of a further ancestor) that shows it absent,
   * or -1 if it exists again. The root of the tree ("/") always exists.
   */
  private long absentSince(String path) {
    if (path.equals("/")) {
      return -1;
    }
    String parent = RecipeNodes.parentOf(path);
    try {
      ChildrenPage listing = RecipeNodes.await(client.getChildrenAsync(parent, null));
      return listing.children().contains(RecipeNodes.nameOf(path)) ? -1 : listing.zxid();
    } catch (NoNodeException parentGone) {
      return absentSince(parent);
    }
  }

  private void deliver(CacheEvent event) {
    for (CacheListener l : listeners) {
      try {
        l.event(event);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "cache listener of " + root + " threw", e);
      }
    }
  }
}
