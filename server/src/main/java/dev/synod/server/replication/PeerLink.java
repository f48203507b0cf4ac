package dev.synod.server.replication;

import dev.synod.peer.v1.PeerAck;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The outbound stream to one peer. Sends are fire and forget and never block the caller: when
 * the stream is not ready, up to {@code queueMax} envelopes wait; beyond that, or while the peer
 * is unreachable, they are dropped (consensus retransmits; forwarded writes time out and are
 * retried by clients). A broken stream is reopened on the next send, at most once per backoff.
 */
final class PeerLink {
  private static final long REOPEN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ManagedChannel channel;
  private final int queueMax;
  private final ArrayDeque<PeerEnvelope> queue = new ArrayDeque<>();
  private ClientCallStreamObserver<PeerEnvelope> stream;
  private long lastOpenNanos;
  private long dropped;

  PeerLink(ManagedChannel channel, int queueMax) {
    this.channel = channel;
    this.queueMax = queueMax;
  }

  synchronized void send(PeerEnvelope envelope) {
    if (stream == null && !open()) {
      dropped++;
      return;
    }
    if (queue.isEmpty() && stream.isReady()) {
      try {
        stream.onNext(envelope);
      } catch (RuntimeException broken) {
        stream = null;
        dropped++;
      }
      return;
    }
    if (queue.size() >= queueMax) {
      dropped++;
      return;
    }
    queue.add(envelope);
  }

  synchronized long dropped() {
    return dropped;
  }

  /** Envelopes waiting for the stream to become ready. */
  synchronized int queued() {
    return queue.size();
  }

  private boolean open() {
    long now = System.nanoTime();
    if (lastOpenNanos != 0 && now - lastOpenNanos < REOPEN_BACKOFF_NANOS) {
      return false;
    }
    lastOpenNanos = now;
    queue.clear();
    // The channel backs off reconnecting exponentially (up to minutes) while a peer is down; a
    // restarted peer must be reachable again at once, so start over from a short backoff.
    channel.resetConnectBackoff();
    ClientResponseObserver<PeerEnvelope, PeerAck> observer = new ClientResponseObserver<>() {
      private ClientCallStreamObserver<PeerEnvelope> mine;

      @Override
      public void beforeStart(ClientCallStreamObserver<PeerEnvelope> requestStream) {
        mine = requestStream;
        requestStream.setOnReadyHandler(() -> drain(requestStream));
      }

      @Override
      public void onNext(PeerAck ack) {}

      @Override
      public void onError(Throwable t) {
        closed(mine);
      }

      @Override
      public void onCompleted() {
        closed(mine);
      }
    };
    stream = (ClientCallStreamObserver<PeerEnvelope>) PeerGrpc.newStub(channel).send(observer);
    return true;
  }

  private synchronized void drain(ClientCallStreamObserver<PeerEnvelope> which) {
    if (which != stream) {
      return;
    }
    try {
      while (!queue.isEmpty() && stream.isReady()) {
        stream.onNext(queue.poll());
      }
    } catch (RuntimeException broken) {
      stream = null;
    }
  }

  private synchronized void closed(ClientCallStreamObserver<PeerEnvelope> which) {
    if (which == stream) {
      stream = null;
      queue.clear();
    }
  }

  synchronized void close() {
    if (stream != null) {
      try {
        stream.onCompleted();
      } catch (RuntimeException ignored) {
        // already broken
      }
      stream = null;
    }
    channel.shutdownNow();
  }
}
