package dev.synod.server.grpc;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;

/**
 * Sends on one server stream from any thread, in call order, honouring gRPC flow control. A
 * client that stops reading is cut off once {@code queueMax} messages are waiting (its session
 * lives on and can be resumed on a new stream), so one slow reader cannot exhaust the heap.
 * The lock here is a leaf: nothing else is locked while it is held.
 */
final class Outbound<T> {
  private final ServerCallStreamObserver<T> call;
  private final int queueMax;
  /** What the client should do once its stream was cut for not reading (ends the status message). */
  private final String afterOverflow;
  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private boolean closed;
  private boolean completeWhenDrained;
  private Runnable onOverflow = () -> {};

  /** For a Session stream: its session survives a cut and can be resumed. */
  Outbound(ServerCallStreamObserver<T> call, int queueMax) {
    this(call, queueMax, "resume the session on a new stream");
  }

  Outbound(ServerCallStreamObserver<T> call, int queueMax, String afterOverflow) {
    this.call = call;
    this.queueMax = queueMax;
    this.afterOverflow = afterOverflow;
    call.setOnReadyHandler(this::drain);
  }

  void onOverflow(Runnable action) {
    this.onOverflow = action;
  }

  /** Queues or sends {@code message}; false when the stream is closed. */
  boolean send(T message) {
    boolean overflow = false;
    synchronized (this) {
      if (closed) {
        return false;
      }
      if (queue.isEmpty() && call.isReady()) {
        try {
          call.onNext(message);
        } catch (RuntimeException cancelled) {
          closed = true;
          return false;
        }
        return true;
      }
      if (queue.size() >= queueMax) {
        overflow = true;
        closed = true;
        queue.clear();
        failQuietly(ErrorStatus.of(Error.newBuilder().setReason(ErrorReason.OVERLOADED)
            .setMessage("this client is not reading its stream (" + queueMax + " messages waiting,"
                + " the server's outbound-messages-max); " + afterOverflow)
            .build()));
      } else {
        queue.add(message);
      }
    }
    if (overflow) {
      onOverflow.run();
      return false;
    }
    return true;
  }

  private synchronized void drain() {
    try {
      while (!queue.isEmpty() && call.isReady()) {
        call.onNext(queue.poll());
      }
      if (queue.isEmpty() && completeWhenDrained) {
        completeWhenDrained = false;
        call.onCompleted();
      }
    } catch (RuntimeException cancelled) {
      closed = true;
      queue.clear();
    }
  }

  /** Completes the stream after everything already queued has been sent. */
  synchronized void complete() {
    if (closed) {
      return;
    }
    closed = true;
    if (queue.isEmpty()) {
      try {
        call.onCompleted();
      } catch (RuntimeException cancelled) {
        // already gone
      }
    } else {
      completeWhenDrained = true;
    }
  }

  /** Ends the stream now with an error status; anything queued is dropped. */
  synchronized void fail(StatusRuntimeException error) {
    if (closed && !completeWhenDrained) {
      return;
    }
    closed = true;
    completeWhenDrained = false;
    queue.clear();
    failQuietly(error);
  }

  synchronized boolean isClosed() {
    return closed;
  }

  private void failQuietly(StatusRuntimeException error) {
    try {
      call.onError(error);
    } catch (RuntimeException cancelled) {
      // already gone
    }
  }
}
