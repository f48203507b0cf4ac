package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The replica loop's queue of events: posted from any thread, taken in groups by the loop's
 * thread. Every event posted is either handed to the loop or refused (its waiter answered); none
 * is dropped, at shutdown included.
 *
 * <p>Admitted events (client writes, barriers, peer input) beyond {@code admittedMax} are refused
 * at the door with OVERLOADED; completions of the loop's own jobs are always queued while the
 * inbox is open. Once {@link #close closed}, every queued event and every later post is refused
 * with SHUTTING_DOWN. A post that races the close (it saw the inbox open, the close drained the
 * queue before the post's event reached it) takes its event back and refuses it itself: exactly
 * one of the two answers it, because taking an event out of the queue is atomic.
 */
final class EventInbox {
  private static final String SHUTTING_DOWN = "the server is shutting down";

  private final BlockingQueue<ReplicaEvent> events;
  private final int admittedMax;
  private final AtomicInteger admitted = new AtomicInteger();
  private volatile boolean closed;

  EventInbox(int admittedMax) {
    this(admittedMax, new LinkedBlockingQueue<>());
  }

  /** With the given (empty, unbounded) queue. */
  EventInbox(int admittedMax, BlockingQueue<ReplicaEvent> events) {
    this.admittedMax = admittedMax;
    this.events = events;
  }

  /**
   * Queues an event for the loop (any thread). False when it was refused instead (the inbox is
   * closed, or the event is admitted and the queue is full); its waiter has then been answered.
   */
  boolean post(ReplicaEvent event) {
    if (closed) {
      event.refuse(ErrorReason.SHUTTING_DOWN, SHUTTING_DOWN);
      return false;
    }
    boolean counted = event.admitted();
    if (counted && admitted.incrementAndGet() > admittedMax) {
      admitted.decrementAndGet();
      event.refuse(ErrorReason.OVERLOADED, "the replication queue is full ("
          + admittedMax + " events); retry with backoff");
      return false;
    }
    events.add(event);
    if (closed && takeBack(event)) {
      // The close may have drained the queue before this event was in it.
      if (counted) {
        admitted.decrementAndGet();
      }
      event.refuse(ErrorReason.SHUTTING_DOWN, SHUTTING_DOWN);
      return false;
    }
    return true;
  }

  /**
   * The loop's thread: waits up to {@code waitNanos} for an event, then adds it and whatever else
   * is queued (up to {@code max} in all) to {@code group}. Returns how many were added.
   */
  int take(List<ReplicaEvent> group, long waitNanos, int max) throws InterruptedException {
    ReplicaEvent first = waitNanos > 0 ? events.poll(waitNanos, TimeUnit.NANOSECONDS) : events.poll();
    if (first == null) {
      return 0;
    }
    int from = group.size();
    group.add(first);
    events.drainTo(group, max - 1);
    for (int i = from; i < group.size(); i++) {
      if (group.get(i).admitted()) {
        admitted.decrementAndGet();
      }
    }
    return group.size() - from;
  }

  /** Refuses every queued event, and every event posted from now on (any thread, idempotent). */
  void close() {
    closed = true;
    ReplicaEvent left;
    while ((left = events.poll()) != null) {
      if (left.admitted()) {
        admitted.decrementAndGet();
      }
      left.refuse(ErrorReason.SHUTTING_DOWN, SHUTTING_DOWN);
    }
  }

  boolean isClosed() {
    return closed;
  }

  /** Admitted events waiting for the loop (any thread). */
  int queued() {
    return Math.max(0, admitted.get());
  }

  /**
   * Removes this very event (not an equal one: two retransmitted peer messages may be equal) if
   * it is still queued; atomic against the loop's and the close's takes.
   */
  private boolean takeBack(ReplicaEvent event) {
    return events.removeIf(queued -> queued == event);
  }
}
