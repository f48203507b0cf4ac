package dev.synod.server.state;

import dev.synod.api.v1.WatchEvent;

/**
 * Where the state machine hands watch events and session endings. Each watcher's events come in
 * zxid order, but from several threads: the applying thread (under the state machine's write
 * lock: the writer's own events, a session's last events before its end), a reading thread
 * (under the read lock: the reader's pending events) and the fan-out (holding the watch
 * registry's lock, which registrations wait for). So implementations must only enqueue (never
 * block and never call back into the state machine), and must be safe to call from several
 * threads at once.
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
