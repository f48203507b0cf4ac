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
 * Linearizable barriers (etcd's ReadIndex), owned by the consensus thread. A barrier learns the
 * leader's commit index as confirmed by a quorum (asking the leader when this server follows),
 * then completes once this server has applied that far and every local write submitted before
 * it is done. Barriers this server answers for followers are tracked here too.
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
  private final int waitersMax;
  private long nextReadId;

  ReadBarriers(int waitersMax) {
    this.waitersMax = waitersMax;
  }

  void add(BarrierDone done, long writesUpTo, long deadlineNanos, IndexSource source) throws SynodException {
    if (waiters.size() >= waitersMax) {
      throw new SynodException(ErrorReason.OVERLOADED, "too many syncs in flight (" + waitersMax + ")");
    }
    long id = ++nextReadId;
    Waiter w = new Waiter(done, writesUpTo, deadlineNanos);
    waiters.put(id, w);
    w.asked = source.request(id);
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
    Waiter w = waiters.get(readId);
    if (w == null) {
      return;
    }
    if (ok) {
      w.index = index;
    } else {
      w.asked = false; // leadership moved: ask again on a later tick
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

  /** Re-asks for unanswered barriers, and fails those past their deadline. */
  void retryOrExpire(long nowNanos, IndexSource source) {
    Iterator<java.util.Map.Entry<Long, Waiter>> it = waiters.entrySet().iterator();
    List<Waiter> expired = new ArrayList<>();
    while (it.hasNext()) {
      var e = it.next();
      Waiter w = e.getValue();
      if (nowNanos - w.deadlineNanos >= 0) {
        it.remove();
        expired.add(w);
      } else if (w.index < 0) {
        // Not answered yet: the request or its reply may have been lost with a leader; asking
        // again is harmless (the first answer wins).
        w.asked = source.request(e.getKey());
      }
    }
    for (Waiter w : expired) {
      w.done.done(0, error(ErrorReason.LEADER_UNAVAILABLE,
          "no leader confirmed a read index in time; retry"));
    }
  }

  void failAll(ErrorReason reason, String message) {
    List<Waiter> all = new ArrayList<>(waiters.values());
    waiters.clear();
    remotes.clear();
    for (Waiter w : all) {
      w.done.done(0, error(reason, message));
    }
  }

  private static Error error(ErrorReason reason, String message) {
    return new SynodException(reason, message).toError();
  }
}
