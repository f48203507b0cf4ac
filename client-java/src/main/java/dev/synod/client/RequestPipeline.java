package dev.synod.client;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The session's requests, from the call to its answer: numbered and ordered by the
 * {@link RequestQueue}, sent when the session's stream allows, sent again after OVERLOADED (with
 * the retry policy's backoff) or OUT_OF_ORDER, given up after {@code maxAttempts} sendings, and
 * failed at their deadline. Loop only.
 */
final class RequestPipeline {
  private static final Logger LOG = Logger.getLogger(RequestPipeline.class.getName());

  /** The session, as the requests see it. */
  interface Link {
    /** The stream requests may go out on now, or null (none open, or sending is held). */
    SessionStream sendable();

    /** Sends on {@code s} (a failed send fails the stream). */
    void send(SessionStream s, ClientMessage m);

    /**
     * An answer that did not apply here, or not for certain (LEADER_UNAVAILABLE and the like):
     * move to another server, where every unanswered request is sent again with its number.
     */
    void moveOn(String why);

    /** Why a new call cannot be accepted now, or null. */
    SynodException refusal();
  }

  private final ClientLoop loop;
  private final RetryPolicy retry;
  private final Callbacks callbacks;
  private final Link link;
  private final LongConsumer zxidSeen;
  private final RequestQueue queue = new RequestQueue();
  private final Map<Long, ClientLoop.Timer> deadlineTimers = new HashMap<>();
  private final Map<ErrorReason, AtomicLong> retried = new ConcurrentHashMap<>();
  private ClientLoop.Timer flushTimer;
  private long flushTimerAtNanos;

  RequestPipeline(ClientLoop loop, RetryPolicy retry, Callbacks callbacks, Link link, LongConsumer zxidSeen) {
    this.loop = loop;
    this.retry = retry;
    this.callbacks = callbacks;
    this.link = link;
    this.zxidSeen = zxidSeen;
  }

  /**
   * Queues {@code request} behind every earlier one and sends what may go. {@code onLoop} sees the
   * final answer on the loop before {@code out} completes with it; {@code deadline} (or null)
   * bounds the wait: past it the request is forgotten and {@code out} fails.
   */
  void submit(Request.Builder request, Consumer<Response> onLoop, CompletableFuture<Response> out, Deadline deadline) {
    SynodException refusal = link.refusal();
    if (refusal != null) {
      callbacks.complete(out, null, refusal);
      return;
    }
    if (deadline != null && deadline.leftNanos(loop.nanoTime()) <= 0) {
      callbacks.complete(out, null, timeout(request, deadline));
      return;
    }
    RequestQueue.Entry e = queue.add(request, onLoop, out);
    if (deadline != null) {
      long number = e.number();
      deadlineTimers.put(number, loop.schedule(() -> deadlinePassed(number, deadline),
          deadline.leftNanos(loop.nanoTime())));
    }
    flush();
  }

  /**
   * Sends what the request queue lets go now, in order (a refused write holds back everything made
   * after it), and comes back when a backoff ends.
   */
  void flush() {
    SessionStream s = link.sendable();
    if (s == null) {
      return;
    }
    long now = loop.nanoTime();
    RequestQueue.Flush f = queue.flush(now, retry.maxAttempts());
    for (RequestQueue.Entry e : f.givenUp()) {
      finish(e, null, new ConnectionLossException("request sent " + retry.maxAttempts()
          + " times without an answer; giving up (a write may or may not have applied)", null));
    }
    for (Request r : f.toSend()) {
      link.send(s, ClientMessage.newBuilder().setRequest(r).build());
    }
    long wake = f.wakeAtNanos();
    if (wake != RequestQueue.Flush.NO_WAKE && (flushTimer == null || wake - flushTimerAtNanos < 0)) {
      if (flushTimer != null) {
        flushTimer.cancel();
      }
      flushTimerAtNanos = wake;
      flushTimer = loop.schedule(() -> {
        flushTimer = null;
        flush();
      }, wake - now);
    }
  }

  /**
   * An answer. LEADER_UNAVAILABLE and the like (the write may or may not have applied) move the
   * client to another server, where every unanswered request is sent again with its number.
   * OVERLOADED (certainly not applied) and OUT_OF_ORDER (a write whose predecessor has not applied;
   * not applied) are sent again with the same number, in order, by the request queue: OVERLOADED
   * after the retry policy's backoff, each at most {@code maxAttempts} times; then the caller gets it.
   */
  void onResponse(Response r) {
    RequestQueue.Entry p = queue.answered(r.getRequestNo());
    if (p == null) {
      return; // an answer to a request already answered (re-sent), given up or past its deadline
    }
    zxidSeen.accept(r.getZxid());
    if (r.hasError() && movesOn(r.getError().getReason())) {
      countRetry(r.getError().getReason());
      link.moveOn(r.getError().getReason() + ": " + r.getError().getMessage());
      return;
    }
    long backoffNanos = TimeUnit.MILLISECONDS.toNanos(retry.delayMs(p.overloads + 1));
    if (queue.settle(p, r, loop.nanoTime(), backoffNanos, retry.maxAttempts()) == RequestQueue.Verdict.AGAIN) {
      countRetry(r.getError().getReason());
      flush();
      return;
    }
    if (p.onLoop != null) {
      try {
        p.onLoop.accept(r);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "internal response hook failed", e);
      }
    }
    finish(p, r, null);
    flush(); // a refused write may have been waiting for this answer
  }

  /** A new stream is open: everything unanswered goes out again, in order, with its number. */
  void newStream() {
    queue.newStream();
    flush();
  }

  /** A new session: its first write follows nothing. */
  void newSession() {
    queue.newSession();
  }

  /** Fails every waiting request with {@code e} (the session ended, or the client closed). */
  void failAll(SynodException e) {
    for (RequestQueue.Entry p : queue.drain()) {
      finish(p, null, e);
    }
  }

  boolean isEmpty() {
    return queue.isEmpty();
  }

  /** Counts a retry for {@code reason} (for {@link SynodClient#testRetries}). */
  void countRetry(ErrorReason reason) {
    retried.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
  }

  long retries(ErrorReason reason) {
    AtomicLong n = retried.get(reason);
    return n == null ? 0 : n.get();
  }

  /** Answers that say nothing about the request, only about the server: try another one. */
  private static boolean movesOn(ErrorReason reason) {
    return reason == ErrorReason.LEADER_UNAVAILABLE || reason == ErrorReason.SHUTTING_DOWN
        || reason == ErrorReason.STORAGE_FAILURE;
  }

  private void deadlinePassed(long number, Deadline deadline) {
    deadlineTimers.remove(number);
    RequestQueue.Entry e = queue.cancel(number);
    if (e != null) {
      callbacks.complete(e.future, null, timeout(e.request.toBuilder(), deadline));
      flush(); // a write refused behind it may go now
    }
  }

  private void finish(RequestQueue.Entry e, Response r, Throwable failure) {
    ClientLoop.Timer t = deadlineTimers.remove(e.number());
    if (t != null) {
      t.cancel();
    }
    callbacks.complete(e.future, r, failure);
  }

  private static DeadlineExceededException timeout(Request.Builder request, Deadline deadline) {
    boolean write = RequestQueue.isWrite(request);
    String path = RequestPaths.of(request);
    return new DeadlineExceededException(request.getOpCase().name().toLowerCase(java.util.Locale.ROOT)
        + (path.isEmpty() ? "" : " " + path) + " not answered within its deadline of "
        + deadline.budget().toMillis() + " ms" + (write ? "; the write may or may not have applied" : ""), path);
  }
}
