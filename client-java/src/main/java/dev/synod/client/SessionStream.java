package dev.synod.client;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.ServerMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * One Session stream to one server and what the client knows of it. Its callbacks are handed to
 * the loop ({@link Events}), where a stream that has been replaced is ignored. Loop only.
 */
final class SessionStream implements StreamObserver<ServerMessage> {
  static final long NOT_SENT = Long.MIN_VALUE;
  /** Heartbeats remembered awaiting their reply (replies come in order; older ones are lost). */
  static final int HEARTBEATS_UNANSWERED_MAX = 64;

  /** Where a stream's messages and its end go (on the loop). */
  interface Events {
    void onMessage(SessionStream stream, ServerMessage message);

    /** The stream failed ({@code error}) or the server completed it ({@code null}). */
    void onEnded(SessionStream stream, Throwable error);
  }

  final InetSocketAddress server;
  private final ClientLoop loop;
  private final Events events;
  StreamObserver<ClientMessage> out;
  /** The server answered the open or resume. */
  boolean opened;
  /** Failed or replaced: nothing more is sent on it or taken from it. */
  boolean dead;
  ClientLoop.Timer connectTimer;
  long startedNanos;
  long openedNanos;
  long lastHeartbeatNanos;
  /** (nonce, send time) of heartbeats not yet answered, oldest first. */
  private final ArrayDeque<long[]> heartbeats = new ArrayDeque<>();

  SessionStream(InetSocketAddress server, ClientLoop loop, Events events) {
    this.server = server;
    this.loop = loop;
    this.events = events;
    this.startedNanos = loop.nanoTime();
  }

  void heartbeatSent(long nonce, long nowNanos) {
    lastHeartbeatNanos = nowNanos;
    heartbeats.add(new long[] {nonce, nowNanos});
    while (heartbeats.size() > HEARTBEATS_UNANSWERED_MAX) {
      heartbeats.poll();
    }
  }

  /** When the heartbeat {@code nonce} was sent (forgetting it and older ones), or NOT_SENT. */
  long heartbeatSentNanos(long nonce) {
    while (!heartbeats.isEmpty() && heartbeats.peek()[0] <= nonce) {
      long[] h = heartbeats.poll();
      if (h[0] == nonce) {
        return h[1];
      }
    }
    return NOT_SENT;
  }

  /** Sends {@code m}; false if the stream is dead or the send failed. */
  boolean send(ClientMessage m) {
    if (dead || out == null) {
      return false;
    }
    try {
      out.onNext(m);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Tells the server the client moves on (cancels the call); a stream already gone is fine. */
  void cancel() {
    if (connectTimer != null) {
      connectTimer.cancel();
    }
    if (out != null) {
      try {
        out.onError(Status.CANCELLED.withDescription("client moves on").asRuntimeException());
      } catch (RuntimeException e) {
        // already gone
      }
    }
  }

  @Override
  public void onNext(ServerMessage m) {
    loop.executeNowOrLater(() -> events.onMessage(this, m));
  }

  @Override
  public void onError(Throwable t) {
    loop.executeNowOrLater(() -> events.onEnded(this, t));
  }

  @Override
  public void onCompleted() {
    loop.executeNowOrLater(() -> events.onEnded(this, null));
  }
}
