package dev.synod.server.pipeline;

import dev.synod.api.v1.WatchEvent;
import dev.synod.server.state.WatchDispatcher;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Routes what the state machine emits to live streams: watch events to the stream currently
 * attached to a session (or to a sessionless Watch stream), and session endings to the session's
 * stream. (The liveness tracker follows session endings in the replica loop, where they are
 * applied.) Events for a session with no attached stream are dropped;
 * a client that resumes re-registers its watches from the last zxid it saw, so none are lost.
 */
public final class StreamRegistry implements WatchDispatcher {
  /** A stream that can receive watch events. */
  public interface Sink {
    void deliver(WatchEvent event);

    void sessionEnded(boolean expired, long zxid);

    /** Ends the stream so its client resumes (its watches must be re-registered). */
    void disconnect(String why);
  }

  private final ConcurrentHashMap<Long, Sink> sinks = new ConcurrentHashMap<>();
  private final AtomicLong sessionlessIds = new AtomicLong();

  public StreamRegistry() {}

  /** Attaches {@code sink} as the watcher's stream; returns the stream it replaced, if any. */
  public Sink attach(long watcherId, Sink sink) {
    return sinks.put(watcherId, sink);
  }

  /** Detaches {@code sink} if it is still the watcher's current stream. */
  public boolean detach(long watcherId, Sink sink) {
    return sinks.remove(watcherId, sink);
  }

  /** A fresh watcher id for a sessionless Watch stream (negative, never a session id). */
  public long newSessionlessId() {
    return -sessionlessIds.incrementAndGet();
  }

  public int streamCount() {
    return sinks.size();
  }

  /**
   * Ends every stream, for when this server's state was replaced wholesale (a snapshot from the
   * leader): events between the old and new state were never dispatched, so clients must resume
   * and re-register their watches from the last zxid they saw.
   */
  public void disconnectAll(String why) {
    for (Long id : new java.util.ArrayList<>(sinks.keySet())) {
      Sink sink = sinks.remove(id);
      if (sink != null) {
        sink.disconnect(why);
      }
    }
  }

  @Override
  public void dispatch(long watcherId, WatchEvent event) {
    Sink sink = sinks.get(watcherId);
    if (sink != null) {
      sink.deliver(event);
    }
  }

  @Override
  public void sessionEnded(long sessionId, boolean expired, long zxid) {
    Sink sink = sinks.remove(sessionId);
    if (sink != null) {
      sink.sessionEnded(expired, zxid);
    }
  }
}
