package dev.synod.server.replication;

import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends one window of a snapshot file (leader side of {@code ReadSnapshot}) no faster than the
 * follower takes it: a piece goes out only while the call is ready (gRPC's flow control, which the
 * follower's reads drive), so at most a transport window of it waits in memory, whatever the size
 * of the snapshot. File reads run on {@code executor}, never on the transport's threads; a call
 * that is not ready holds no thread, it resumes when gRPC says the call is ready again.
 */
final class SnapshotSender {
  private final SnapshotSource source;
  private final long clusterId;
  private final SnapshotReadRequest request;
  private final ServerCallStreamObserver<SnapshotPiece> out;
  private final Executor executor;
  /** Set while a pump is queued or running: one at a time, which also orders their fields. */
  private final AtomicBoolean pumping = new AtomicBoolean();
  private volatile SnapshotSource.Opened opened;
  private volatile boolean finished;
  private long next;
  private long end;

  private SnapshotSender(SnapshotSource source, long clusterId, SnapshotReadRequest request,
      ServerCallStreamObserver<SnapshotPiece> out, Executor executor) {
    this.source = source;
    this.clusterId = clusterId;
    this.request = request;
    this.out = out;
    this.executor = executor;
  }

  /**
   * Serves {@code request} on {@code out}. Call from the service method itself: gRPC takes the
   * flow-control handlers only there.
   *
   * @param clusterId the sender's cluster id (0: not known yet), stamped on every piece
   */
  static void serve(SnapshotSource source, long clusterId, SnapshotReadRequest request,
      ServerCallStreamObserver<SnapshotPiece> out, Executor executor) {
    SnapshotSender sender = new SnapshotSender(source, clusterId, request, out, executor);
    out.setOnCancelHandler(() -> sender.finished = true);
    out.setOnReadyHandler(sender::schedule);
    executor.execute(sender::open);
  }

  /** Chooses the file (summing it, or writing a snapshot first, may take a while). */
  private void open() {
    SnapshotSource.Opened o;
    try {
      o = source.open(request.getMinSlot(), request.hasResume() ? request.getResume() : null,
          request.getOffset(), request.hasRejected() ? request.getRejected() : null);
    } catch (IllegalArgumentException e) {
      fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      return;
    } catch (IllegalStateException e) {
      fail(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(Status.UNAVAILABLE.withDescription("interrupted"));
      return;
    } catch (IOException | RuntimeException e) {
      fail(Status.UNAVAILABLE.withDescription("the snapshot cannot be read: " + e));
      return;
    }
    next = o.offset();
    end = SnapshotSource.windowEnd(o, request.getWindowBytes());
    opened = o; // volatile: publishes next and end to the first pump
    schedule();
  }

  private void schedule() {
    if (opened != null && !finished && pumping.compareAndSet(false, true)) {
      executor.execute(this::pump);
    }
  }

  /** Sends pieces while the call is ready; ends the call after the window's last byte. */
  private void pump() {
    SnapshotSource.Opened o = opened;
    try {
      while (!finished) {
        if (next >= end) {
          finished = true;
          out.onCompleted();
          return;
        }
        if (!out.isReady()) {
          break;
        }
        SnapshotPiece piece = source.piece(o, next, end, clusterId);
        next += piece.getData().size();
        out.onNext(piece);
      }
    } catch (IOException | RuntimeException e) {
      // A pruned file ends up here too: the follower asks again and is given the newest.
      fail(Status.UNAVAILABLE.withDescription("reading the snapshot at slot " + o.identity().getSlot()
          + " failed at byte " + next + ": " + e));
      return;
    } finally {
      pumping.set(false);
    }
    // The call may have become ready between the last isReady() and clearing the flag, with the
    // ready handler finding a pump still in progress.
    if (out.isReady()) {
      schedule();
    }
  }

  private void fail(Status status) {
    if (finished) {
      return;
    }
    finished = true;
    try {
      out.onError(status.asRuntimeException());
    } catch (RuntimeException e) {
      // The call was cancelled meanwhile: nobody is left to tell.
    }
  }
}
