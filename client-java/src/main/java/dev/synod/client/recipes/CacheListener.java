package dev.synod.client.recipes;

/**
 * Told of every change of a {@link NodeCache} or {@link TreeCache}, in order, on the cache's own
 * thread (never a client thread; synchronous client calls are allowed). A listener that throws is
 * logged and keeps receiving events.
 */
@FunctionalInterface
public interface CacheListener {
  void event(CacheEvent event);
}
