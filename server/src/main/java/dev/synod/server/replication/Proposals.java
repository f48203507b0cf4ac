package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;

/**
 * Writes on their way into the log, owned by the replica loop. Local writes wait here for their
 * apply (matched by {@code Txn.origin} within this incarnation) or their deadline; queued Txns
 * (local, or forwarded by followers when this server leads) wait to be packed into a slot value
 * or forwarded.
 *
 * <p>Origins are unique across restarts: the counter restarts at zero with the process, so each
 * origin is qualified by an incarnation drawn at random at start (a Txn of an earlier incarnation
 * decided after a restart must never complete a request of this one).
 */
final class Proposals {
  /** A local write waiting to be applied. */
  private static final class Pending {
    final Txn txn;
    final Applied applied;
    final long deadlineNanos;

    Pending(Txn txn, Applied applied, long deadlineNanos) {
      this.txn = txn;
      this.applied = applied;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final int selfId;
  private final long incarnation;
  private final int queueMax;
  private final TreeMap<Long, Pending> pending = new TreeMap<>();
  private final ArrayDeque<Txn> queue = new ArrayDeque<>();
  private long counter;

  /** @param incarnation drawn at random at each start; zero (the unset value) is replaced */
  Proposals(int selfId, long incarnation, int queueMax) {
    this.selfId = selfId;
    this.incarnation = incarnation == 0 ? 1 : incarnation;
    this.queueMax = queueMax;
  }

  /** Gives a Txn proposed by this server a fresh origin of this incarnation. */
  void stampOrigin(Txn.Builder txn) {
    txn.setOrigin(((long) selfId << 48) | ++counter).setOriginIncarnation(incarnation);
  }

  /** The newest origin handed out so far (barriers wait for everything up to it). */
  long lastOrigin() {
    return ((long) selfId << 48) | counter;
  }

  private boolean isLocal(Txn txn) {
    return txn.getOriginIncarnation() == incarnation && (txn.getOrigin() >>> 48) == selfId;
  }

  void addLocal(Txn txn, Applied applied, long deadlineNanos) throws SynodException {
    if (queue.size() >= queueMax) {
      throw new SynodException(ErrorReason.OVERLOADED, "write queue is full (" + queue.size()
          + " pending); retry with backoff");
    }
    pending.put(txn.getOrigin(), new Pending(txn, applied, deadlineNanos));
    queue.add(txn);
  }

  /** Txns forwarded by a follower; dropped (the follower times out) when the queue is full. */
  void addForwarded(List<Txn> txns) {
    for (Txn txn : txns) {
      if (queue.size() < queueMax) {
        queue.add(txn);
      }
    }
  }

  boolean hasQueued() {
    return !queue.isEmpty();
  }

  /** Takes the next batch within the limits, in queue order; never empty if anything is queued. */
  List<Txn> takeBatch(int txnsMax, int bytesMax) {
    List<Txn> batch = new ArrayList<>();
    int bytes = 0;
    while (!queue.isEmpty() && batch.size() < txnsMax) {
      Txn next = queue.peek();
      int size = next.getSerializedSize() + 8;
      if (!batch.isEmpty() && bytes + size > bytesMax) {
        break;
      }
      batch.add(queue.poll());
      bytes += size;
    }
    return batch;
  }

  /** Puts a batch that could not be proposed back at the front, in order. */
  void putBack(List<Txn> batch) {
    for (int i = batch.size() - 1; i >= 0; i--) {
      queue.addFirst(batch.get(i));
    }
  }

  /** Everything queued, for forwarding to the leader; session expiries are dropped (see below). */
  List<Txn> drainForForwarding() {
    List<Txn> out = new ArrayList<>(queue.size());
    for (Txn txn : queue) {
      // Only the leader decides expiry: an expiry decided under an old leader's view of liveness
      // must not reach the log through a new leader, which gave every session a fresh timeout.
      if (!(txn.hasCloseSession() && txn.getCloseSession().getExpired())) {
        out.add(txn);
      }
    }
    queue.clear();
    return out;
  }

  /**
   * The waiting callback of an applied Txn proposed here in this incarnation, removed; null if
   * none (another server's, an earlier incarnation's, or timed out).
   */
  Applied takeApplied(Txn applied) {
    if (!isLocal(applied)) {
      return null;
    }
    Pending p = pending.remove(applied.getOrigin());
    return p == null ? null : p.applied;
  }

  /** Whether any local write with origin <= {@code origin} is still waiting. */
  boolean anyPendingUpTo(long origin) {
    return !pending.isEmpty() && pending.firstKey() <= origin;
  }

  int pendingCount() {
    return pending.size();
  }

  /**
   * The leader changed: writes already handed to the old leader may have died with it. Those the
   * state machine deduplicates (a session's numbered requests) are queued again, in their
   * original order and ahead of anything queued since, so the new leader gets them before any
   * later write of the same session (FIFO) and applies each once. The others cannot be sent
   * twice safely: the new leader re-proposes whatever a majority accepted within its first round
   * trips, so give them that long, then let {@link #expire} fail the rest with
   * LEADER_UNAVAILABLE (clients retry with the same request_no, or read to find out).
   */
  void leaderChanged(long graceDeadlineNanos) {
    java.util.TreeSet<Long> stillQueued = new java.util.TreeSet<>();
    for (Txn t : queue) {
      stillQueued.add(t.getOrigin());
    }
    List<Txn> resend = new ArrayList<>();
    pending.replaceAll((origin, p) -> {
      if (stillQueued.contains(origin)) {
        return p;
      }
      if (deduplicated(p.txn)) {
        resend.add(p.txn);
        return p;
      }
      return p.deadlineNanos - graceDeadlineNanos > 0
          ? new Pending(p.txn, p.applied, graceDeadlineNanos)
          : p;
    });
    // pending is ordered by origin, which is submission order: put them back in that order.
    for (int i = resend.size() - 1; i >= 0; i--) {
      queue.addFirst(resend.get(i));
    }
  }

  /** Whether applying the Txn twice has the effect of applying it once (a numbered request). */
  private static boolean deduplicated(Txn txn) {
    return txn.getSessionId() != 0 && txn.getRequestNo() != 0;
  }

  /** Fails local writes past their deadline with LEADER_UNAVAILABLE. */
  void expire(long nowNanos) {
    Iterator<java.util.Map.Entry<Long, Pending>> it = pending.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (nowNanos - e.getValue().deadlineNanos >= 0) {
        it.remove();
        queue.removeIf(t -> t.getOrigin() == e.getKey());
        fail(e.getValue(), ErrorReason.LEADER_UNAVAILABLE,
            "no leader applied this write in time; it may or may not take effect: retry with the"
                + " same request_no, or read to find out");
      }
    }
  }

  /** Fails every local write (shutdown or storage failure). */
  void failAll(ErrorReason reason, String message) {
    pending.values().forEach(p -> fail(p, reason, message));
    pending.clear();
    queue.clear();
  }

  private static void fail(Pending p, ErrorReason reason, String message) {
    p.applied.onApplied(p.txn, Response.newBuilder()
        .setRequestNo(p.txn.getRequestNo())
        .setError(new SynodException(reason, message).toError())
        .build());
  }

  static byte[] encode(List<Txn> batch) {
    return TxnBatch.newBuilder().addAllTxns(batch).build().toByteArray();
  }
}
