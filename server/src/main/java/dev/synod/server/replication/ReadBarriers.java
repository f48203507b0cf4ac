package dev.synod.server.replication;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.server.pipeline.WritePipeline.BarrierDone;
import dev.synod.server.state.SynodException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;

/**
 * Linearizable barriers (etcd's ReadIndex), owned by the consensus thread: syncs, and reads made
 * with the linearizable flag. A barrier learns the leader's commit index as confirmed by a quorum
 * (asking the leader when this server follows), then completes once this server has applied that
 * far and every local write submitted before it is done. Barriers that arrive together share one
 * request. Barriers this server answers for followers are tracked here too.
 */
final class ReadBarriers {
  /** Asks for a read index: locally when leading, else from the leader. */
  interface IndexSource {
    /** Returns false when no leader is known right now (the barrier retries on a later tick). */
    boolean request(long readId);
  }

  /** Answers a follower's read-index request. */
  interface RemoteReply {
    void reply(int follower, long theirReadId, boolean ok, long index);
  }

  private static final class Waiter {
    final BarrierDone done;
    final long writesUpTo;
    final long deadlineNanos;
    long index = -1;
    boolean asked;

    Waiter(BarrierDone done, long writesUpTo, long deadlineNanos) {
      this.done = done;
      this.writesUpTo = writesUpTo;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private record Remote(int follower, long theirReadId) {}

  private final TreeMap<Long, Waiter> waiters = new TreeMap<>();
  private final TreeMap<Long, Remote> remotes = new TreeMap<>();
  /** Read ids asked for and not yet answered: the barriers each one answers. */
  private final TreeMap<Long, List<Long>> rounds = new TreeMap<>();
  private final int waitersMax;
  private long nextReadId;
  /** Whether some barrier may be waiting to be asked for (skips the scan when none is). */
  private boolean someUnasked;

  ReadBarriers(int waitersMax) {
    this.waitersMax = waitersMax;
  }

  /**
   * Adds a barrier. It is not asked for yet: {@link #askPending} asks once for every barrier
   * added since the last ask, so the reads and syncs that arrive together share one ReadIndex
   * round (one heartbeat round on a leader, one request to the leader on a follower).
   */
  void add(BarrierDone done, long writesUpTo, long deadlineNanos) throws SynodException {
    if (waiters.size() >= waitersMax) {
      throw new SynodException(ErrorReason.OVERLOADED, "too many syncs in flight (" + waitersMax + ")");
    }
    waiters.put(++nextReadId, new Waiter(done, writesUpTo, deadlineNanos));
    someUnasked = true;
  }

  /**
   * Asks for one read index on behalf of every barrier that is waiting for one and not asked yet.
   * Safe to share: each of them was added before the request goes out, so the index it brings
   * back covers every write acknowledged before any of them arrived.
   */
  void askPending(IndexSource source) {
    if (!someUnasked) {
      return;
    }
    List<Long> unasked = null;
    for (var e : waiters.entrySet()) {
      Waiter w = e.getValue();
      if (w.index < 0 && !w.asked) {
        if (unasked == null) {
          unasked = new ArrayList<>();
        }
        unasked.add(e.getKey());
      }
    }
    if (unasked == null) {
      someUnasked = false;
      return;
    }
    long round = ++nextReadId;
    if (!source.request(round)) {
      return; // no leader known: a later tick asks again
    }
    rounds.put(round, unasked);
    for (long id : unasked) {
      waiters.get(id).asked = true;
    }
    someUnasked = false;
  }

  /** A follower asked this (leading) server for a read index; returns the local id to request. */
  long addRemote(int follower, long theirReadId) {
    long id = ++nextReadId;
    if (remotes.size() < waitersMax) {
      remotes.put(id, new Remote(follower, theirReadId));
    }
    return id;
  }

  /** The consensus module (or the leader, for a follower) answered read {@code readId}. */
  void onIndex(long readId, boolean ok, long index, RemoteReply remoteReply) {
    Remote remote = remotes.remove(readId);
    if (remote != null) {
      remoteReply.reply(remote.follower(), remote.theirReadId(), ok, index);
      return;
    }
    List<Long> ids = rounds.remove(readId);
    if (ids == null) {
      return; // a round given up by a retry, or answered already
    }
    for (long id : ids) {
      Waiter w = waiters.get(id);
      if (w == null || w.index >= 0) {
        continue; // expired meanwhile, or answered by another round
      }
      if (ok) {
        w.index = index;
      }
      // Not ok: leadership moved; the next retry round asks again (not at once, which could
      // ping-pong with a member that is not the leader at network speed).
    }
  }

  /** Completes the barriers that are satisfied. */
  void complete(long appliedSlot, long lastZxid, Proposals proposals) {
    List<BarrierDone> ready = new ArrayList<>();
    Iterator<Waiter> it = waiters.values().iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (w.index >= 0 && appliedSlot >= w.index && !proposals.anyPendingUpTo(w.writesUpTo)) {
        it.remove();
        ready.add(w.done);
      }
    }
    for (BarrierDone done : ready) {
      done.done(lastZxid, null);
    }
  }

  /** Fails the barriers past their deadline, and re-asks, in one round, for those still unanswered. */
  void retryOrExpire(long nowNanos, IndexSource source) {
    Iterator<Waiter> it = waiters.values().iterator();
    List<Waiter> expired = new ArrayList<>();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (nowNanos - w.deadlineNanos >= 0) {
        it.remove();
        expired.add(w);
      } else if (w.index < 0) {
        // Not answered yet: the request or its reply may have been lost with a leader; asking
        // again is harmless (the first answer wins).
        w.asked = false;
        someUnasked = true;
      }
    }
    rounds.clear(); // their waiters are asked again below; a late answer to them is dropped
    askPending(source);
    for (Waiter w : expired) {
      w.done.done(0, error(ErrorReason.LEADER_UNAVAILABLE,
          "no leader confirmed a read index in time; retry"));
    }
  }

  void failAll(ErrorReason reason, String message) {
    List<Waiter> all = new ArrayList<>(waiters.values());
    waiters.clear();
    remotes.clear();
    rounds.clear();
    for (Waiter w : all) {
      w.done.done(0, error(reason, message));
    }
  }

  private static Error error(ErrorReason reason, String message) {
    return new SynodException(reason, message).toError();
  }
}
