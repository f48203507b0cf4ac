package dev.synod.server.pipeline;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ServerMessage;

/**
 * Where a {@link ClientSession} sends what its client is told: a transport adapter (the gRPC
 * session stream) or a simulated client. Calls come from any thread, but never concurrently for
 * one session's messages in a way that reorders them: an implementation keeps the order of the
 * calls it receives. Once the stream has ended ({@link #fail}, {@link #disconnect} or
 * {@link #complete}), later calls are ignored.
 */
public interface SessionOutput {
  /** Queues {@code message} behind everything sent before it. */
  void send(ServerMessage message);

  /** Ends the stream now with {@code error} (its gRPC status); anything queued may be dropped. */
  void fail(Error error);

  /** Ends the stream now so that the client resumes its session elsewhere or here. */
  void disconnect(String why);

  /** Ends the stream after everything already queued has been sent. */
  void complete();
}
