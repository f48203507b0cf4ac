package dev.synod.server.state;

import dev.synod.api.v1.WatchEvent;

/**
 * Where the state machine hands watch events and session endings. Called while the state
 * machine holds its lock, in zxid order, so implementations must only enqueue (never block and
 * never call back into the state machine).
 *
 * <p>A watcher id is a session id (positive) for session watches, or a negative id the gRPC
 * layer allocates for a sessionless Watch stream.
 */
public interface WatchDispatcher {
  WatchDispatcher NONE = new WatchDispatcher() {
    @Override
    public void dispatch(long watcherId, WatchEvent event) {}

    @Override
    public void sessionEnded(long sessionId, boolean expired, long zxid) {}
  };

  void dispatch(long watcherId, WatchEvent event);

  void sessionEnded(long sessionId, boolean expired, long zxid);
}
