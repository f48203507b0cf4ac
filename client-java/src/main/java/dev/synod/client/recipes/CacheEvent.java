package dev.synod.client.recipes;

/**
 * What a {@link NodeCache} or {@link TreeCache} tells its listeners. Node events carry the node
 * ({@code data}); the others have {@code data == null}.
 */
public record CacheEvent(Type type, ChildData data) {
  public enum Type {
    /** A node appeared (also for every node of the first load, before INITIALIZED). */
    NODE_ADDED,
    /** A node's value (or stat) changed; {@code data} is the new state. */
    NODE_UPDATED,
    /** A node went away; {@code data} is its last cached state. */
    NODE_REMOVED,
    /** The first load is complete: the cache reflects the server from here on. */
    INITIALIZED,
    /**
     * The session expired: the cache may be stale (it keeps its last contents) until it has
     * reloaded on a new session, which ends with RELOADED_AFTER_EXPIRY.
     */
    SESSION_EXPIRED,
    /** Reloaded on a new session; the node events just before it were the difference. */
    RELOADED_AFTER_EXPIRY,
    /**
     * The server could not replay the changes missed while disconnected (its history no longer
     * reached back), so the cache re-read everything; the node events just before it were the
     * difference.
     */
    RELOADED_AFTER_RESYNC
  }
}
