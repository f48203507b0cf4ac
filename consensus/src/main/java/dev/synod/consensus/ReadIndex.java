package dev.synod.consensus;

import java.util.ArrayDeque;
import java.util.function.LongPredicate;

/**
 * Linearizable reads without writing to the log (etcd's ReadIndex). A read is answered with the
 * leader's commit index once a majority has acknowledged a heartbeat round sent after the read
 * was requested: no higher ballot can have decided anything the index misses. A new leader
 * holds reads until it has committed an entry in its own ballot, so its commit index covers
 * everything decided before it.
 */
final class ReadIndex {
  /** Reads waiting at once; beyond this a read is refused (ok=false) and the driver retries. */
  static final int READS_PENDING_MAX = 4096;

  private record Read(long readId, long index, long round) {}

  private final Output out;
  private final int selfId;
  /** Whether the members in a mask (bit per id) confirm the leadership (a majority of the voters). */
  private final LongPredicate isQuorum;
  /** The highest round each member acknowledged, by id (ours is always the latest). */
  private final long[] ackedRound = new long[Membership.ID_MAX + 1];
  private final ArrayDeque<Long> waitingForOwnCommit = new ArrayDeque<>();
  private final ArrayDeque<Read> waitingForQuorum = new ArrayDeque<>();
  private long round;
  /** The heartbeats of {@link #round} are still in the Output: a read requested now may use it. */
  private boolean roundUnsent;

  ReadIndex(ReplicaConfig config, Output out, LongPredicate isQuorum) {
    this.out = out;
    this.selfId = config.selfId();
    this.isQuorum = isQuorum;
  }

  long round() {
    return round;
  }

  /** Starts a new heartbeat round (the caller broadcasts it). */
  long startRound() {
    round++;
    roundUnsent = true;
    ackedRound[selfId] = round;
    return round;
  }

  /** The driver took the Ready: the current round's heartbeats are on their way. */
  void readyTaken() {
    roundUnsent = false;
  }

  /** Queues a read; returns true if the caller must broadcast a new round for it. */
  boolean request(long readId, boolean ownBallotCommitted, long commitIndex) {
    if (waitingForOwnCommit.size() + waitingForQuorum.size() >= READS_PENDING_MAX) {
      out.reads.add(new Replica.ReadState(readId, false, -1));
      return false;
    }
    if (!ownBallotCommitted) {
      waitingForOwnCommit.add(readId);
      return false;
    }
    boolean newRound = !roundUnsent;
    if (newRound) {
      startRound();
    }
    waitingForQuorum.add(new Read(readId, commitIndex, round));
    release();
    return newRound;
  }

  /** The leader committed in its own ballot: held reads may proceed. True if a new round is needed. */
  boolean ownBallotCommitted(long commitIndex) {
    if (waitingForOwnCommit.isEmpty()) {
      return false;
    }
    boolean newRound = !roundUnsent;
    if (newRound) {
      startRound();
    }
    while (!waitingForOwnCommit.isEmpty()) {
      waitingForQuorum.add(new Read(waitingForOwnCommit.poll(), commitIndex, round));
    }
    release();
    return newRound;
  }

  void onAck(int memberId, long ackRound) {
    if (ackRound > ackedRound[memberId] && ackRound <= round) {
      ackedRound[memberId] = ackRound;
      release();
    }
  }

  void failAll() {
    while (!waitingForOwnCommit.isEmpty()) {
      out.reads.add(new Replica.ReadState(waitingForOwnCommit.poll(), false, -1));
    }
    while (!waitingForQuorum.isEmpty()) {
      out.reads.add(new Replica.ReadState(waitingForQuorum.poll().readId(), false, -1));
    }
  }

  private void release() {
    long confirmedRound = -1; // the last round found confirmed (reads are queued by round)
    while (!waitingForQuorum.isEmpty()) {
      long wanted = waitingForQuorum.peek().round();
      if (wanted != confirmedRound) {
        if (!isQuorum.test(ackedAtLeast(wanted))) {
          return;
        }
        confirmedRound = wanted;
      }
      Read r = waitingForQuorum.poll();
      out.reads.add(new Replica.ReadState(r.readId(), true, r.index()));
    }
  }

  /** The members that acknowledged {@code round} or a later one (bit per id). */
  private long ackedAtLeast(long round) {
    long mask = 0;
    for (int id = 0; id < ackedRound.length; id++) {
      if (ackedRound[id] >= round) {
        mask |= 1L << id;
      }
    }
    return mask;
  }
}
