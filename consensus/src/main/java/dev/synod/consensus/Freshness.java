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
 *   <li>(bootstrap) it is a founding member (its data directory was created for a new cluster,
 *       {@link DurableState.Standing#FOUNDING}), a majority, itself included, answered "founding,
 *       with no history", and no member answered that it has a history: a brand-new cluster, where
 *       nobody has anything to forget. A single founding member of a cluster of one bootstraps
 *       alone.
 * </ul>
 * Only founding members bootstrap, because no rule can tell a new cluster from one whose majority
 * lost its disks: members 1 and 2 of three acknowledge writes (3 never started), 1's disk is wiped
 * and 2 is down; 1 and 3 are then a majority with nothing on disk. Counting every empty member
 * as evidence, they bootstrapped a second history at slot 1 over the acknowledged one. Now a
 * member with an empty directory of an existing cluster ({@link DurableState.Standing#JOINING})
 * only ever joins through a leader of that cluster, and a founding member that hears of a history
 * (a promise above zero, an entry or a commit anywhere) joins instead of bootstrapping, and stops
 * answering "founding" so that it counts for no one else's bootstrap either. (A founder that has
 * just bootstrapped promised only {@link Ballot#ZERO} and holds nothing, so it has no history: it
 * holds back no founder still waiting for its grace, which then could only have joined through a
 * leader that needs that founder's vote.) Recovering from the loss of a majority of disks is the
 * operator's job (restore, or refound from the survivor).
 *
 * <p>Liveness. A replica with the bootstrap evidence does not bootstrap at once: it stays fresh
 * (not voting, still answering "founding, with no history") until every member has answered its probe
 * and no member has probed it for a grace ({@link #bootstrapGraceTicks}), or at the latest
 * {@link #bootstrapWaitTicksMax} after the evidence (a member that is down when the cluster is
 * created does not hold it back longer). A replica that has the evidence and every answer stops
 * probing, so the quiet means every member started has had its answers. Bootstrapping at once
 * left out the last to probe (it heard only voters) or one whose links were still connecting: it
 * had to join through a leader, and if that leader was lost before it joined, the other survivors
 * were one vote short for good (a three-server cluster whose leader stopped right after it formed
 * elected no one). A joining replica keeps the earliest slot a leader named (per leader ballot):
 * any slot that leader assigns after the probe serves, and the earliest is reached first, whereas
 * following each new answer let an idle leader's no-op for every probe move the finish line faster
 * than catching up reached it. The first probe goes out on the first tick.
 */
final class Freshness {
  private final ReplicaConfig config;
  /** Quorums and "every member" are the latest membership's voters. */
  private final Configs configs;
  private final long nonce;
  private boolean fresh;
  /** Created for a new cluster: may bootstrap it with the other founders. */
  private final boolean founding;
  /** Some member answered with a history: the cluster exists, so we may only join it. */
  private boolean historySeen;
  /** Members that answered this incarnation's probe, bit per id (ourselves included). */
  private long repliedMask;
  /** Members that answered founding with no history, bit per id (ourselves included). */
  private long freshMask;
  private Ballot highestPromised = Ballot.ZERO;
  /** The leader ballot and slot we must see decided (in that ballot) before voting; slot 0: none. */
  private Ballot joinBallot = Ballot.ZERO;
  private long joinSlot;
  private int probeElapsed;
  /** When we first had the bootstrap evidence; -1: not yet. */
  private long evidenceAtTick = -1;
  /** When every member had answered our probe; -1: not yet. */
  private long allAnsweredAtTick = -1;
  /** When a member last probed us (it may still need our answer); -1: never. */
  private long probedAtTick = -1;

  Freshness(ReplicaConfig config, Configs configs, DurableState.Standing standing, long nonce) {
    this.config = config;
    this.configs = configs;
    this.fresh = standing != DurableState.Standing.VOTER;
    this.founding = standing == DurableState.Standing.FOUNDING;
    this.nonce = nonce;
    this.probeElapsed = 2 * config.heartbeatTicks() - 1; // the first probe goes out on the first tick
    long self = 1L << config.selfId();
    this.repliedMask = self;
    this.freshMask = self;
  }

  boolean isFresh() {
    return fresh;
  }

  /** Fresh, founding, and no member has answered with a history (yet): bootstrapping may follow. */
  boolean mayBootstrap() {
    return fresh && founding && !historySeen;
  }

  long nonce() {
    return nonce;
  }

  long joinSlot() {
    return joinSlot;
  }

  Ballot joinBallot() {
    return joinBallot;
  }

  /** The ballot to promise on joining: at least the leader's and every promise we heard of. */
  Ballot votingBallot() {
    return Ballot.max(joinBallot, highestPromised);
  }

  /**
   * True every few heartbeats while fresh: time to probe again. Not while we only wait to
   * bootstrap ({@code withoutHistory}: founding, nothing learned, no history heard of; the evidence
   * and every answer in hand): there is nothing more to learn, and our silence tells the others
   * that we have what we need.
   */
  boolean probeDue(boolean withoutHistory) {
    if (!fresh || ++probeElapsed < 2 * config.heartbeatTicks()) {
      return false;
    }
    probeElapsed = 0;
    return !(withoutHistory && mayBootstrap() && evidenceAtTick >= 0 && allAnsweredAtTick >= 0);
  }

  /** A member probed us: it may still need our answer to bootstrap. */
  void probedBy(long tick) {
    if (fresh) {
      probedAtTick = tick;
    }
  }

  /**
   * Counts an answer to our probe; true once we may bootstrap and a majority (us included) is
   * founding with no history. {@code hasHistory}: the member promised a ballot, or holds an entry or
   * a commit (the cluster exists). {@code joinSlotSpent}: our join slot can no longer serve (it is
   * compacted into our snapshot, so its ballot cannot be checked, or we learned it decided in
   * another ballot), so the next slot the leader names replaces it.
   */
  boolean onProbeReply(int memberId, long replyNonce, Ballot promised, boolean foundingWithoutHistory,
      boolean hasHistory, long leaderSlot, boolean joinSlotSpent, long tick) {
    if (!fresh || replyNonce != nonce) {
      return false;
    }
    if (hasHistory) {
      historySeen = true; // for good: a cluster that has a history is joined, never founded again
    }
    repliedMask |= 1L << memberId;
    highestPromised = Ballot.max(highestPromised, promised);
    if (leaderSlot > 0 && promised.isAbove(joinBallot)) {
      joinBallot = promised; // a newer leader: its slots are what we must see decided now
      joinSlot = leaderSlot;
    } else if (leaderSlot > 0 && promised.equals(joinBallot)
        && (leaderSlot < joinSlot || joinSlotSpent)) {
      joinSlot = leaderSlot; // the same leader: the earliest slot it named after our probe serves
    }
    if (foundingWithoutHistory) {
      freshMask |= 1L << memberId;
    }
    long voters = configs.latest().voterMask();
    if (allAnsweredAtTick < 0 && (repliedMask & voters) == voters) {
      allAnsweredAtTick = tick;
    }
    return mayBootstrap() && configs.latest().isQuorum(freshMask);
  }

  /** The join condition, given our commit index and our entry at {@link #joinSlot()} (or null). */
  boolean mayJoin(long commitIndex, Entry atJoinSlot) {
    return fresh && configs.latest().isQuorum(repliedMask) && joinSlot > 0
        && !joinBallot.isBelow(highestPromised) && commitIndex >= joinSlot
        && atJoinSlot != null && atJoinSlot.ballot().equals(joinBallot);
  }

  /**
   * How long a replica with the bootstrap evidence and every member's answer waits after the last
   * probe it received: a member that still needs our answer probes again within 2 heartbeats, and
   * hears it within a round trip (which the election timeout outlasts).
   */
  static long bootstrapGraceTicks(ReplicaConfig config) {
    return config.electionTicksMin() + 2L * config.heartbeatTicks();
  }

  /** The longest a replica with the bootstrap evidence waits for the other members to answer. */
  static long bootstrapWaitTicksMax(ReplicaConfig config) {
    return 10L * config.electionTicksMax();
  }

  /** We have the bootstrap evidence at {@code tick} (the first time counts). */
  void bootstrapEvidence(long tick) {
    if (mayBootstrap() && evidenceAtTick < 0) {
      evidenceAtTick = tick;
    }
  }

  /** Time to bootstrap, given the evidence (the caller checks we still have no history). */
  boolean bootstrapDue(long tick) {
    if (!mayBootstrap() || evidenceAtTick < 0) {
      return false;
    }
    if (tick - evidenceAtTick >= bootstrapWaitTicksMax(config)) {
      return true;
    }
    return allAnsweredAtTick >= 0
        && tick - Math.max(allAnsweredAtTick, probedAtTick) >= bootstrapGraceTicks(config);
  }

  /** The founding member of a single-member cluster bootstraps alone. */
  boolean bootstrapAlone() {
    return mayBootstrap() && configs.latest().voterMask() == 1L << config.selfId();
  }

  void becomeVoter() {
    fresh = false;
  }
}
