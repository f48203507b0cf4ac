package dev.synod.client.recipes;

import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;

/**
 * A subtree (a node and its descendants, optionally down to a maximum depth) kept current
 * locally, by ONE recursive persistent watch on its root (not one watch per node, and no one-shot
 * watches to re-arm).
 *
 * <pre>{@code
 * try (TreeCache tree = new TreeCache(client, "/services").start()) {
 *   tree.addListener(e -> System.out.println(e.type() + " " + (e.data() == null ? "" : e.data().path())));
 *   tree.awaitInitialized(Duration.ofSeconds(5));
 *   List<String> names = tree.children("/services");
 * }
 * }</pre>
 *
 * <p>How it stays right where ZooKeeper's TreeCache was notoriously racy: the watch is registered
 * before anything is read; every read answers the zxid of the state it saw, and an event is applied
 * to a path only if its zxid is newer than what the cache already knows of that path. So a change
 * that races with the initial load is applied exactly once and an old value never replaces a newer
 * one. When the server cannot replay missed changes (RESYNC_NEEDED), or after a session expiry once
 * the client has a new session, the subtree is re-read and the listener gets the differences and
 * then RELOADED_AFTER_RESYNC / RELOADED_AFTER_EXPIRY. Listeners run on the cache's own thread, in
 * order.
 */
public final class TreeCache implements AutoCloseable {
  private final CachedTree tree;
  private final String root;

  /** A cache of {@code root} and everything below it. */
  public TreeCache(SynodClient client, String root) {
    this(client, root, Integer.MAX_VALUE);
  }

  /** A cache of {@code root} and its descendants down to {@code maxDepth} levels (0: the root only). */
  public TreeCache(SynodClient client, String root, int maxDepth) {
    this.tree = new CachedTree(client, root, maxDepth);
    this.root = root;
  }

  /** Registers the watch and loads the subtree in the background; returns this. */
  public TreeCache start() {
    tree.start();
    return this;
  }

  /** Waits for the first load; false on timeout. */
  public boolean awaitInitialized(Duration timeout) throws InterruptedException {
    return tree.awaitInitialized(timeout);
  }

  /** A node of the subtree as last seen, or empty. */
  public Optional<ChildData> get(String path) {
    return Optional.ofNullable(tree.get(path));
  }

  /** The cached children names of {@code path}, sorted (empty if it is not cached). */
  public List<String> children(String path) {
    return tree.children(path);
  }

  /** Every cached node, by path (a copy). */
  public NavigableMap<String, ChildData> snapshot() {
    return tree.snapshot();
  }

  public void addListener(CacheListener listener) {
    tree.addListener(listener);
  }

  public void removeListener(CacheListener listener) {
    tree.removeListener(listener);
  }

  public String root() {
    return root;
  }

  /** Removes the watch and stops the cache thread. */
  @Override
  public void close() {
    tree.close();
  }
}
