package dev.synod.client;

/**
 * A persistent watch's listener: every matching event, in zxid order, exactly once (events
 * missed while disconnected are replayed after the reconnect), on the client's watch thread.
 */
@FunctionalInterface
public interface WatchListener {
  void onEvent(WatchedEvent event);
}
