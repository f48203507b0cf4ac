package dev.synod.server.replication;

import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.server.pipeline.Clock;
import io.grpc.Context;
import java.util.Iterator;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Moves a snapshot from the leader to a follower that is behind the leader's compacted log: the
 * follower ({@link SnapshotDownload}) copies the leader's newest snapshot file, which the leader
 * ({@link SnapshotSender}, {@link SnapshotSource}) reads from its disk, over {@code ReadSnapshot}
 * calls of one window each. This class is the follower's gRPC end of those calls.
 *
 * <p>There is no deadline on a whole snapshot, which may take any time to copy; a call that makes
 * no progress for {@link #IDLE_TIMEOUT_MS} (no piece arrives) is cancelled, and the download
 * resumes it.
 */
final class SnapshotTransfer {
  /** A call that brings no piece for this long is given up (then resumed). */
  static final long IDLE_TIMEOUT_MS = 10_000;

  private SnapshotTransfer() {}

  /**
   * The leader behind {@code stub}, each call cancelled once no piece has come for {@code
   * idleTimeoutMs} by {@code clock}, as checked on {@code watchdog}.
   */
  static SnapshotDownload.Leader overGrpc(PeerGrpc.PeerBlockingStub stub, Clock clock,
      long idleTimeoutMs, ScheduledExecutorService watchdog) {
    return request -> call(stub, request, clock, TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs), watchdog);
  }

  private static SnapshotDownload.Window call(PeerGrpc.PeerBlockingStub stub, SnapshotReadRequest request,
      Clock clock, long idleNanos, ScheduledExecutorService watchdog) {
    Context.CancellableContext context = Context.current().withCancellation();
    AtomicLong progressNanos = new AtomicLong(clock.monoNanos());
    long checkNanos = Math.max(1, idleNanos / 4);
    ScheduledFuture<?> check = watchdog.scheduleWithFixedDelay(() -> {
      long idle = clock.monoNanos() - progressNanos.get();
      if (idle > idleNanos) {
        context.cancel(new TimeoutException("no snapshot data from the leader for "
            + TimeUnit.NANOSECONDS.toMillis(idle) + " ms"));
      }
    }, checkNanos, checkNanos, TimeUnit.NANOSECONDS);
    Iterator<SnapshotPiece> pieces;
    try {
      pieces = context.call(() -> stub.readSnapshot(request));
    } catch (Exception e) {
      check.cancel(false);
      context.cancel(null);
      throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
    return new SnapshotDownload.Window() {
      @Override
      public boolean hasNext() {
        boolean more = pieces.hasNext(); // blocks until a piece, the end, or a failure
        progressNanos.set(clock.monoNanos());
        return more;
      }

      @Override
      public SnapshotPiece next() {
        return pieces.next();
      }

      @Override
      public void close() {
        check.cancel(false);
        context.cancel(null); // ends the call if it is still open; nothing otherwise
      }
    };
  }
}
