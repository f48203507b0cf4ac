package dev.synod.client;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The session's requests that await their answer, in the order they were made (their request
 * numbers), and the rules that make one session's writes apply in that order across refusals,
 * reconnects and leader changes (ZooKeeper's FIFO client order). Used only on the client's loop.
 *
 * <ul>
 *   <li>Every write names its predecessor, the session's previous write ({@code after_request_no});
 *       the servers apply it only once that one has applied, and otherwise refuse it with
 *       OUT_OF_ORDER (not applied, retryable), so no write overtakes an earlier one that was lost
 *       (with a leader that died, or timed out in a queue).
 *   <li>A refused write (OUT_OF_ORDER, or OVERLOADED after its backoff) is sent again with the
 *       same request number once no earlier write is in flight, and everything made after it waits
 *       behind it. Reads sent after it are sent again too, and the answers of their first sending
 *       are dropped: a read must see the writes made before it.
 *   <li>The lowest waiting write names as predecessor the last write the servers reported applied
 *       (every earlier write has been answered or given up by then: one given up either applied
 *       before, or can never apply, since the servers refuse a request number below one applied).
 *   <li>On a new stream everything is sent again, in order, with the same numbers (the servers
 *       deduplicate writes by request number).
 * </ul>
 */
final class RequestQueue {
  /** One request awaiting its answer. */
  static final class Entry {
    final Request request;
    final boolean write;
    final Consumer<Response> onLoop;
    final CompletableFuture<Response> future;
    /** The session's previous write when this one was made (0: none). */
    final long after;
    /** Sent on the current stream, its answer awaited. */
    boolean onStream;
    /** Sendings since the last answer. */
    int sends;
    int overloads;
    int outOfOrders;
    /** A read sent before a write ahead of it was refused: that many answers are to be dropped. */
    int staleAnswers;
    /** Not to be sent before this (OVERLOADED backoff); 0: any time. */
    long notBeforeNanos;
    /** The last write the servers reported applied when they refused this one (OUT_OF_ORDER), or -1. */
    long lastAppliedSeen = -1;

    Entry(Request request, boolean write, long after, Consumer<Response> onLoop, CompletableFuture<Response> future) {
      this.request = request;
      this.write = write;
      this.after = after;
      this.onLoop = onLoop;
      this.future = future;
    }

    long number() {
      return request.getRequestNo();
    }
  }

  /** What a flush decided: send these (in order), fail those (sent too often), and when to look again. */
  record Flush(List<Request> toSend, List<Entry> givenUp, long wakeAtNanos) {
    static final long NO_WAKE = Long.MIN_VALUE;
  }

  /** What an answer means for its request. */
  enum Verdict {
    /** Its final answer: the entry is removed; complete its future. */
    FINAL,
    /** Refused without effect; it waits to be sent again (flush). */
    AGAIN
  }

  private final TreeMap<Long, Entry> entries = new TreeMap<>();
  /** Numbers of entries not on the current stream (to be sent), in order. */
  private final TreeSet<Long> unsent = new TreeSet<>();
  private final TreeSet<Long> writes = new TreeSet<>();
  private final TreeSet<Long> writesOnStream = new TreeSet<>();
  private long nextNumber = 1;
  /** The session's latest write (the predecessor of the next one); 0 for none. */
  private long lastWrite;

  static boolean isWrite(Request.Builder r) {
    return switch (r.getOpCase()) {
      case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA -> true;
      default -> false;
    };
  }

  /** Numbers a new request and queues it behind everything made before it. */
  Entry add(Request.Builder request, Consumer<Response> onLoop, CompletableFuture<Response> future) {
    boolean write = isWrite(request);
    Entry e = new Entry(request.setRequestNo(nextNumber++).build(), write, write ? lastWrite : 0, onLoop, future);
    if (write) {
      lastWrite = e.number();
      writes.add(e.number());
    }
    entries.put(e.number(), e);
    unsent.add(e.number());
    return e;
  }

  /** The awaited request an answer is for; null if none, or if the answer is a stale one to drop. */
  Entry answered(long requestNo) {
    Entry e = entries.get(requestNo);
    if (e == null) {
      return null; // answered already (sent twice) or given up
    }
    if (e.staleAnswers > 0) {
      e.staleAnswers--;
      return null;
    }
    return e;
  }

  /**
   * Settles an answer (already found by {@link #answered}; retryable transport-level reasons such
   * as LEADER_UNAVAILABLE are the caller's). OUT_OF_ORDER and OVERLOADED send the request again
   * later, at most {@code attemptsMax} times each; anything else is final.
   */
  Verdict settle(Entry e, Response r, long nowNanos, long backoffNanos, int attemptsMax) {
    e.sends = 0;
    offStream(e);
    ErrorReason reason = r.hasError() ? r.getError().getReason() : null;
    if (reason == ErrorReason.OUT_OF_ORDER && e.write && ++e.outOfOrders < attemptsMax) {
      e.lastAppliedSeen = r.getLastAppliedRequestNo();
      unsent.add(e.number());
      staleReadsAfter(e);
      return Verdict.AGAIN;
    }
    if (reason == ErrorReason.OVERLOADED && ++e.overloads < attemptsMax) {
      e.notBeforeNanos = nowNanos + Math.max(1, backoffNanos);
      unsent.add(e.number());
      if (e.write) {
        staleReadsAfter(e);
      }
      return Verdict.AGAIN;
    }
    remove(e);
    return Verdict.FINAL;
  }

  /**
   * What may be sent now, in order: everything not on the stream, up to the first request that
   * must wait (its backoff, or a refused write while an earlier write is still in flight: its
   * answer decides what the refused one follows). Requests sent {@code sendsMax} times without an
   * answer are given up.
   */
  Flush flush(long nowNanos, int sendsMax) {
    List<Request> toSend = new ArrayList<>();
    List<Entry> givenUp = new ArrayList<>();
    long wake = Flush.NO_WAKE;
    // Writes already in flight before this flush; those sent in it go out ahead, in order.
    long firstInFlight = writesOnStream.isEmpty() ? Long.MAX_VALUE : writesOnStream.first();
    for (Long number = unsent.isEmpty() ? null : unsent.first(); number != null; number = unsent.higher(number)) {
      Entry e = entries.get(number);
      if (e.notBeforeNanos != 0 && nowNanos - e.notBeforeNanos < 0) {
        wake = e.notBeforeNanos;
        break;
      }
      boolean refusedWrite = e.write && e.lastAppliedSeen >= 0;
      if (refusedWrite && firstInFlight < number) {
        break; // sent again once that one is answered: it decides what this one follows
      }
      if (e.sends >= sendsMax) {
        remove(e);
        givenUp.add(e);
        continue;
      }
      Request.Builder out = e.request.toBuilder();
      if (e.write) {
        boolean lowest = writes.first().equals(number);
        out.setAfterRequestNo(lowest && refusedWrite ? e.lastAppliedSeen : e.after);
        e.lastAppliedSeen = -1;
        writesOnStream.add(number);
      }
      e.notBeforeNanos = 0;
      e.onStream = true;
      e.sends++;
      unsent.remove(number);
      toSend.add(out.build());
    }
    return new Flush(toSend, givenUp, wake);
  }

  /**
   * Forgets the request {@code number} (its deadline passed): it is never sent again, and an answer
   * still on its way is dropped. A later write that named it as predecessor is refused
   * OUT_OF_ORDER if it never applies, and then follows what the servers report applied, as for a
   * request given up. Returns the entry, or null if it was answered or given up already.
   */
  Entry cancel(long number) {
    Entry e = entries.get(number);
    if (e != null) {
      remove(e);
    }
    return e;
  }

  /** A new stream: nothing is on it yet, and no answer from the old one will come. */
  void newStream() {
    for (Entry e : entries.values()) {
      e.onStream = false;
      e.staleAnswers = 0;
    }
    unsent.addAll(entries.keySet());
    writesOnStream.clear();
  }

  /** Removes and returns everything (the session ended or the client closed). */
  Collection<Entry> drain() {
    List<Entry> all = new ArrayList<>(entries.values());
    entries.clear();
    unsent.clear();
    writes.clear();
    writesOnStream.clear();
    return all;
  }

  /** A new session: its first write follows nothing. */
  void newSession() {
    lastWrite = 0;
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  int size() {
    return entries.size();
  }

  private void remove(Entry e) {
    entries.remove(e.number());
    unsent.remove(e.number());
    writes.remove(e.number());
    writesOnStream.remove(e.number());
  }

  private void offStream(Entry e) {
    e.onStream = false;
    writesOnStream.remove(e.number());
  }

  /** Reads on the stream after the refused write {@code w} answered without it: send them again. */
  private void staleReadsAfter(Entry w) {
    for (Entry e : entries.tailMap(w.number(), false).values()) {
      if (!e.write && e.onStream) {
        e.onStream = false;
        e.staleAnswers++;
        unsent.add(e.number());
      }
    }
  }
}
