package dev.synod.client;

/**
 * A one-shot watcher (getData/exists/getChildren): called at most once, on the client's watch
 * thread, in event order.
 */
@FunctionalInterface
public interface Watcher {
  void process(WatchedEvent event);
}
