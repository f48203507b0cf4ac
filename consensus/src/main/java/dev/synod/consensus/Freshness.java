package dev.synod.consensus;

/**
 * The fresh-node rule: a replica whose durable state is missing (a new or wiped disk) must not
 * vote (promise, accept, campaign) while it may have forgotten votes of an earlier incarnation,
 * since those could then help decide a second value for a slot. It probes every member (with a
 * nonce, so only answers made after it restarted count) and becomes a voter when either:
 * <ul>
 *   <li>(join) a majority has answered, an active leader whose ballot is at least every promise in
 *       those answers gave it a slot assigned after the probe, and it has learned that slot decided
 *       in that leader's ballot, i.e. a whole Paxos instance started after it restarted has
 *       completed without it (after "Paxos Made Live", section 5.1). Everything its earlier
 *       incarnation could have helped decide is then at or below its commit index, and it promises
 *       at least that leader's ballot, so it never accepts below a promise it forgot nor reuses a
 *       ballot it forgot;
 *   <li>(bootstrap) a majority, itself included, answered fresh with no history: a brand-new
 *       cluster, where nobody has anything to forget. A single-member cluster bootstraps alone.
 * </ul>
 */
final class Freshness {
  private final ReplicaConfig config;
  private final long nonce;
  private boolean fresh;
  /** Members that answered this incarnation's probe (ourselves included). */
  private long repliedMask;
  /** Members that answered fresh with no history (ourselves included). */
  private long freshMask;
  private Ballot highestPromised = Ballot.ZERO;
  /** The leader ballot and slot we must see decided (in that ballot) before voting; slot 0: none. */
  private Ballot joinBallot = Ballot.ZERO;
  private long joinSlot;
  private int probeElapsed;

  Freshness(ReplicaConfig config, boolean fresh, long nonce) {
    this.config = config;
    this.fresh = fresh;
    this.nonce = nonce;
    long self = 1L << config.indexOf(config.selfId());
    this.repliedMask = self;
    this.freshMask = self;
  }

  boolean isFresh() {
    return fresh;
  }

  long nonce() {
    return nonce;
  }

  long joinSlot() {
    return joinSlot;
  }

  /** The ballot to promise on joining: at least the leader's and every promise we heard of. */
  Ballot votingBallot() {
    return Ballot.max(joinBallot, highestPromised);
  }

  /** True every few heartbeats while fresh: time to probe again. */
  boolean probeDue() {
    if (!fresh || ++probeElapsed < 2 * config.heartbeatTicks()) {
      return false;
    }
    probeElapsed = 0;
    return true;
  }

  /** Counts an answer to our probe; true once a majority (us included) is fresh with no history. */
  boolean onProbeReply(int memberIndex, long replyNonce, Ballot promised, boolean freshWithoutHistory,
      long leaderSlot) {
    if (!fresh || replyNonce != nonce) {
      return false;
    }
    repliedMask |= 1L << memberIndex;
    highestPromised = Ballot.max(highestPromised, promised);
    if (leaderSlot > 0 && !promised.isBelow(joinBallot)) {
      joinBallot = promised;
      joinSlot = leaderSlot;
    }
    if (freshWithoutHistory) {
      freshMask |= 1L << memberIndex;
    }
    return Long.bitCount(freshMask) >= config.quorum();
  }

  /** The join condition, given our commit index and our entry at {@link #joinSlot()} (or null). */
  boolean mayJoin(long commitIndex, Entry atJoinSlot) {
    return fresh && Long.bitCount(repliedMask) >= config.quorum() && joinSlot > 0
        && !joinBallot.isBelow(highestPromised) && commitIndex >= joinSlot
        && atJoinSlot != null && atJoinSlot.ballot().equals(joinBallot);
  }

  /** A single-member cluster bootstraps alone. */
  boolean bootstrapAlone() {
    return fresh && config.members().size() == 1;
  }

  void becomeVoter() {
    fresh = false;
  }
}
