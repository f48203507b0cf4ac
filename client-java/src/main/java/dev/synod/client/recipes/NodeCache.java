package dev.synod.client.recipes;

import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.Optional;

/**
 * One node's value kept current locally, by one persistent watch (no re-arming of one-shot
 * watches, so no change is missed between two of them). {@link #current()} is empty while the
 * node does not exist.
 *
 * <pre>{@code
 * try (NodeCache config = new NodeCache(client, "/app/config").start()) {
 *   config.addListener(e -> System.out.println(e.type() + " " + config.current()));
 *   config.awaitInitialized(Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <p>The initial load is consistent with the watch: it is registered first, and an event is
 * applied only if it is newer than what the read already showed. Listeners run on the cache's own
 * thread, in order. After a session expiry the listener gets SESSION_EXPIRED, and once the client
 * has a new session the node is re-read (RELOADED_AFTER_EXPIRY); a RESYNC_NEEDED from the server
 * also causes a re-read (RELOADED_AFTER_RESYNC).
 */
public final class NodeCache implements AutoCloseable {
  private final CachedTree tree;
  private final String path;

  public NodeCache(SynodClient client, String path) {
    this.tree = new CachedTree(client, path, 0);
    this.path = path;
  }

  /** Registers the watch and loads the node in the background; returns this. */
  public NodeCache start() {
    tree.start();
    return this;
  }

  /** Waits for the first load; false on timeout. */
  public boolean awaitInitialized(Duration timeout) throws InterruptedException {
    return tree.awaitInitialized(timeout);
  }

  /** The node as last seen, or empty if it does not exist (or is not loaded yet). */
  public Optional<ChildData> current() {
    return Optional.ofNullable(tree.get(path));
  }

  public void addListener(CacheListener listener) {
    tree.addListener(listener);
  }

  public void removeListener(CacheListener listener) {
    tree.removeListener(listener);
  }

  public String path() {
    return path;
  }

  /** Removes the watch and stops the cache thread. */
  @Override
  public void close() {
    tree.close();
  }
}
