package dev.synod.consensus;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.HeartbeatAck;
import dev.synod.consensus.Message.Nack;
import dev.synod.consensus.Message.PreVote;
import dev.synod.consensus.Message.PreVoteReply;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Probe;
import dev.synod.consensus.Message.ProbeReply;
import dev.synod.consensus.Message.Promise;
import dev.synod.consensus.Message.SnapshotRequired;
import dev.synod.consensus.Message.TimeoutNow;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One Multi-Paxos replica: acceptor, learner, and (when elected) leader, as a deterministic state
 * machine. Inputs are {@link #tick()}, {@link #step(Message)}, {@link #propose(byte[])} and
 * {@link #requestRead(long)}; outputs come out of {@link #ready()}. See the package
 * documentation for the driver's contract.
 */
public final class Replica {
  /**
   * Everything produced since the last {@link #advance()}. The driver persists
   * (promised, entries, commitIndex) durably, then sends the messages, then applies the committed
   * entries, answers the reads, and finally calls {@link #advance()}.
   *
   * @param promised the promise to persist, or null if unchanged
   * @param entries accepted or learned entries to persist (latest per slot, ascending)
   * @param commitIndex the durable commit marker to persist, or -1 if unchanged
   * @param messages messages to send to peers: {@link #sendBeforePersist()} may go out before
   *     this Ready is persisted, {@link #sendAfterPersist()} only after
   * @param committed newly decided entries, contiguous and in slot order, each handed out once
   *     (after a restart, again from the snapshot slot + 1)
   * @param reads answers to {@link #requestRead(long)}
   * @param snapshotNeeded -1, or: this replica is behind the leader's compacted log and must
   *     install a snapshot from {@link #leaderId()} covering at least this slot; repeated in every
   *     Ready until {@link #snapshotInstalled(long)}
   */
  public record Ready(
      Ballot promised,
      List<Entry> entries,
      long commitIndex,
      List<Message> messages,
      List<Entry> committed,
      List<ReadState> reads,
      long snapshotNeeded) {

    /**
     * A leader's Accepts. They claim nothing about this replica's durable state: each acceptor
     * persists what it accepts before acknowledging, and the leader's own acceptance is counted
     * only at {@link #advance()}, after this Ready is persisted (its ballot's promise was made
     * durable before phase 1 could finish). Sending them first overlaps the followers' fsync with
     * the leader's own, as Raft leaders do.
     */
    public List<Message> sendBeforePersist() {
      List<Message> early = new ArrayList<>();
      for (Message m : messages) {
        if (m instanceof Accept) {
          early.add(m);
        }
      }
      return early;
    }

    /** Everything else: promises, acceptances and rejections speak for what this replica persisted. */
    public List<Message> sendAfterPersist() {
      List<Message> late = new ArrayList<>();
      for (Message m : messages) {
        if (!(m instanceof Accept)) {
          late.add(m);
        }
      }
      return late;
    }
  }

  /** The answer to a read request: ok with the index to wait for, or not ok (retry or forward). */
  public record ReadState(long readId, boolean ok, long index) {}

  /**
   * @param role "leader", "follower", "candidate" or "recovering" (fresh: not yet a voter); a
   *     replica in pre-vote is a "follower": it has changed nothing yet
   * @param ballot the highest ballot promised
   * @param lastSlot the highest slot with an accepted entry (or the snapshot slot)
   * @param peerMatch leader only: the highest slot each peer has acknowledged
   * @param membership the latest membership decided (it governs the slots after the commit index)
   */
  public record Status(
      String role,
      int leaderId,
      Ballot ballot,
      long commitIndex,
      long lastSlot,
      SortedMap<Integer, Long> peerMatch,
      Membership membership) {}

  /** The answer to {@link #proposeMembership}. */
  public enum ChangeResult {
    /** Proposed: it takes effect once decided (watch {@link #membership()}). */
    PROPOSED,
    /** Not the active leader: ask the leader. */
    NOT_LEADER,
    /** A membership change or leadership transfer is in progress: retry once it is over. */
    BUSY,
    /** The change breaks a rule (see {@link Membership#changeRefusal}); {@link #lastRefusal()} says which. */
    REFUSED
  }

  private final ReplicaConfig config;
  private final int selfId;
  private final RandomSource random;
  private final Output out;
  private final Acceptor acceptor;
  private final Learner learner;
  private final Freshness freshness;
  private final Configs configs;
  private String lastRefusal = "";
  /** A member that answered our probe with a history (it can serve decided entries); -1: none. */
  private int historyHolder = -1;
  private PreCandidacy preCandidacy;
  private Candidacy candidacy;
  private Leader leader;
  private int leaderId = -1;
  private long maxRoundSeen;
  private long tick;
  private int electionElapsed;
  private int electionTimeout;
  /** The last tick a valid Accept or Heartbeat from a leader arrived; -1: never. */
  private long leaderHeardAtTick = -1;
  /** Our own replies held until the outstanding Ready is persisted; null when none is outstanding. */
  private List<Message> deliverAtAdvance;

  public Replica(ReplicaConfig config, DurableState recovered, RandomSource random) {
    if (config == null || recovered == null || random == null) {
      throw new IllegalArgumentException("config, recovered and random must not be null");
    }
    this.config = config;
    this.selfId = config.selfId();
    this.random = random;
    this.out = new Output(selfId);
    this.configs = new Configs(recovered.snapshotSlot(), recovered.membership() != null
        ? recovered.membership() : Membership.ofVoters(config.members()));
    this.acceptor = new Acceptor(recovered, out, config.catchupEntriesMax());
    this.learner = new Learner(config, out, acceptor, configs, recovered);
    this.freshness = new Freshness(config, configs, recovered.standing(), random.nextLong());
    this.maxRoundSeen = acceptor.promised().round();
    resetElectionTimer();
    if (freshness.bootstrapAlone()) {
      becomeVoter(Ballot.ZERO);
    }
    if (configs.latest().voterMask() == 1L << selfId && !freshness.isFresh()) {
      campaign(); // a cluster of one has no one to wait for (unless it may not vote: no one admits it)
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** Time passes: elections, heartbeats, retransmissions. */
  public void tick() {
    tick++;
    if (leader != null) {
      if (!leader.tick(tick)) {
        stepDown(); // no majority heard for an election timeout: let a reachable replica lead
      }
      return;
    }
    if (freshness.isFresh()) {
      if (freshness.bootstrapDue(tick) && freshWithoutHistory()) {
        becomeVoter(Ballot.ZERO); // bootstrap, once the members started with us have their answers
        return;
      }
      if (freshness.probeDue(freshWithoutHistory())) {
        probe();
        if (!heardFromLeaderRecently() && historyHolder >= 0) {
          // No leader heard lately (its messages may not reach us: a member added after our
          // --members leads, and we learn its address only from entries we lack; the leader we
          // knew may lead no more): catch up from a member that has a history; any replica
          // serves decided entries.
          learner.requestCatchup(historyHolder, tick, false);
        }
      }
      return; // a fresh replica never campaigns
    }
    if (candidacy != null && candidacy.resendDue()) {
      sendPrepares(true);
    }
    if (preCandidacy != null && preCandidacy.resendDue()) {
      sendPreVotes(true);
    }
    if (++electionElapsed >= electionTimeout) {
      if (configs.latest().isVoter(selfId)) {
        preVote();
      } else {
        stepDown(); // a learner, an observer or a removed member never campaigns
      }
    }
  }

  /**
   * A message addressed to this replica; others are ignored. Any member id may speak (a member
   * joining may not be in the membership this replica knows yet), but only voters count.
   */
  public void step(Message m) {
    if (m == null || m.to() != selfId || m.from() == selfId || m.from() > Membership.ID_MAX) {
      return;
    }
    handle(m);
    leadOnlyAsVoter();
  }

  /** A decided membership without our vote: lead no more (pending reads fail and are retried). */
  private void leadOnlyAsVoter() {
    if (leader != null && !configs.latest().isVoter(selfId)) {
      stepDown();
    }
  }

  /**
   * Proposes a new membership (leader only). It must follow the latest decided one by the rules
   * of {@link Membership#changeRefusal}, keep this leader a voter (transfer leadership first to
   * remove it), and wait for any change in progress: a leader proposes nothing after a membership
   * until it is decided, so each one is chained on a decided predecessor.
   */
  public ChangeResult proposeMembership(Membership next) {
    if (next == null) {
      throw new IllegalArgumentException("membership must not be null");
    }
    if (leader == null) {
      return ChangeResult.NOT_LEADER;
    }
    if (!leader.settled()) {
      return ChangeResult.BUSY;
    }
    String refusal = configs.latest().changeRefusal(next);
    if (refusal == null && !next.isVoter(selfId)) {
      refusal = "the leader (" + selfId + ") cannot remove its own vote: transfer leadership first";
    }
    if (refusal == null && leader.inactiveAddedVoter(next) >= 0) {
      int id = leader.inactiveAddedVoter(next);
      refusal = "learner " + id + " is not caught up yet (it has not acknowledged the leader within an"
          + " election timeout): promote it once it has";
    }
    if (refusal == null && !leader.keepsActiveQuorum(next)) {
      refusal = "a majority of the voters of " + next + ", and every voter it adds, must be up and"
          + " acknowledging the leader (else the change could leave the cluster without a quorum)";
    }
    if (refusal != null) {
      lastRefusal = refusal;
      return ChangeResult.REFUSED;
    }
    leader.propose(next.encode());
    return ChangeResult.PROPOSED;
  }

  /** Why the last {@link #proposeMembership} was refused. */
  public String lastRefusal() {
    return lastRefusal;
  }

  /** The latest membership decided (it governs the slots after the commit index). */
  public Membership membership() {
    return configs.latest();
  }

  /**
   * Hands leadership to voter {@code target} (leader only): proposing stops, and once the target
   * has every slot it is told to campaign at once. False if this is not the leader, the target is
   * not a voter, or a change or transfer is in progress. If the target has not taken over within
   * an election timeout, this leader carries on.
   */
  public boolean transferLeadership(int target) {
    return leader != null && leader.transfer(target, tick);
  }

  /**
   * Proposes a value for the next slot. Succeeds only on an active leader (phase 1 done, earlier
   * values re-proposed) with fewer than inflightSlotsMax undecided slots; otherwise false and the
   * driver keeps or forwards the value.
   */
  public boolean propose(byte[] value) {
    if (value == null) {
      throw new IllegalArgumentException("value must not be null");
    }
    if (Membership.isConfigValue(value)) {
      throw new IllegalArgumentException("a value starting with 0 'S' 'y' 'M' is a membership: use proposeMembership");
    }
    if (leader == null || !leader.canPropose()) {
      return false;
    }
    leader.propose(value);
    return true;
  }

  /** A linearizable read: answered by a ReadState in a later Ready (ok=false unless leader). */
  public void requestRead(long readId) {
    if (leader == null) {
      out.reads.add(new ReadState(readId, false, -1));
    } else {
      leader.requestRead(readId);
    }
  }

  /** The driver durably snapshotted its state through {@code slot} (at most what it applied). */
  public void compact(long slot) {
    learner.compact(slot);
  }

  /**
   * The driver installed a snapshot through {@code slot}; catching up continues from slot + 1.
   * {@code membership} is what the snapshot carries (null: none was ever decided, the
   * configured members).
   */
  public void snapshotInstalled(long slot, Membership membership) {
    if (slot < acceptor.snapshotSlot()) {
      throw new IllegalArgumentException("snapshot slot " + slot + " is below the compacted slot "
          + acceptor.snapshotSlot());
    }
    if (leader != null) {
      throw new IllegalStateException("a leader never installs a snapshot");
    }
    learner.snapshotInstalled(slot, membership != null ? membership : Membership.ofVoters(config.members()));
    maybeJoin();
    learner.requestCatchup(leaderId, tick, true); // continue from slot + 1 by entries
  }

  // ---------------------------------------------------------------------------------------------
  // Outputs

  public boolean hasReady() {
    return !out.isEmpty() || learner.hasUnhandedCommits() || (leader != null && leader.hasUnsent());
  }

  public Ready ready() {
    if (deliverAtAdvance != null) {
      throw new IllegalStateException("ready() called again before advance()");
    }
    if (leader != null) {
      leader.flush(tick);
      leader.readyTaken();
    }
    Ready r = new Ready(out.promised, List.copyOf(out.entries.values()), out.commitIndex,
        List.copyOf(out.messages), learner.takeCommitted(), List.copyOf(out.reads),
        learner.snapshotNeeded());
    deliverAtAdvance = new ArrayList<>(out.toSelfAfterPersist);
    out.clear();
    return r;
  }

  /** The last Ready is persisted, sent and applied: our own promise/acceptance now count. */
  public void advance() {
    if (deliverAtAdvance == null) {
      throw new IllegalStateException("advance() without a ready()");
    }
    List<Message> durable = deliverAtAdvance;
    deliverAtAdvance = null;
    for (Message m : durable) {
      handle(m);
    }
    leadOnlyAsVoter();
  }

  public boolean isLeader() {
    return leader != null;
  }

  /**
   * Where to fetch the snapshot {@link Ready#snapshotNeeded()} asks for: the leader if one is
   * known, else the replica that answered our catch-up with SnapshotRequired (with no leader, the
   * one that could lead may be the one behind: a sole voter whose removal of the others it has
   * not learned yet). -1 if neither is known.
   */
  public int snapshotSource() {
    int leading = leaderId();
    return leading >= 0 && leading != selfId ? leading : learner.snapshotHolder();
  }

  public int leaderId() {
    return leader != null ? selfId : leaderId;
  }

  public boolean isFresh() {
    return freshness.isFresh();
  }

  /** The highest decided slot known here ({@link Status#commitIndex()} without the rest). */
  public long commitIndex() {
    return learner.commitIndex();
  }

  /** The highest slot this member has accepted ({@link Status#lastSlot()} without the rest). */
  public long lastSlot() {
    return acceptor.lastSlot();
  }

  public Status status() {
    String role = freshness.isFresh() ? "recovering"
        : leader != null ? "leader" : candidacy != null ? "candidate" : "follower";
    SortedMap<Integer, Long> match = leader != null ? leader.peerMatch() : new TreeMap<>();
    return new Status(role, leaderId(), acceptor.promised(), learner.commitIndex(),
        acceptor.lastSlot(), match, configs.latest());
  }

  // ---------------------------------------------------------------------------------------------
  // Message handling

  private void handle(Message m) {
    if (m instanceof Prepare p) {
      onPrepare(p);
    } else if (m instanceof Promise p) {
      onPromise(p);
    } else if (m instanceof Nack n) {
      onNack(n);
    } else if (m instanceof Accept a) {
      onAccept(a);
    } else if (m instanceof Accepted a) {
      if (leader != null && a.ballot().equals(leader.ballot)) {
        leader.onAccepted(a);
      }
    } else if (m instanceof Heartbeat h) {
      onHeartbeat(h);
    } else if (m instanceof HeartbeatAck a) {
      if (leader != null && a.ballot().equals(leader.ballot)) {
        leader.onHeartbeatAck(a);
      }
    } else if (m instanceof CatchupRequest r) {
      out.send(learner.serveCatchup(r));
    } else if (m instanceof CatchupReply r) {
      onCatchupReply(r);
    } else if (m instanceof SnapshotRequired s) {
      if (leader == null) {
        learner.onSnapshotRequired(s);
      }
    } else if (m instanceof Probe p) {
      onProbe(p);
    } else if (m instanceof ProbeReply r) {
      observe(r.promised());
      if (r.hasHistory()) {
        historyHolder = r.from();
      }
      if (freshness.onProbeReply(r.from(), r.nonce(), r.promised(),
          r.foundingWithoutHistory(), r.hasHistory(), r.leaderSlot(), joinSlotSpent(), tick)
          && freshWithoutHistory()) {
        freshness.bootstrapEvidence(tick); // a majority of founders, us included, has nothing at all
      }
      maybeJoin();
    } else if (m instanceof PreVote p) {
      onPreVote(p);
    } else if (m instanceof PreVoteReply r) {
      onPreVoteReply(r);
    } else if (m instanceof TimeoutNow t) {
      onTimeoutNow(t);
    }
  }

  /**
   * Our leader hands over leadership: we have every slot it assigned. Campaign at once, skipping
   * the pre-vote (the members still hear the leader, so stickiness would refuse it); phase 1
   * itself keeps every rule.
   */
  private void onTimeoutNow(TimeoutNow t) {
    observe(t.ballot());
    if (freshness.isFresh() || leader != null || !configs.latest().isVoter(selfId)
        || t.ballot().node() != t.from() || !t.ballot().equals(acceptor.promised())) {
      return;
    }
    learner.learn(t.ballot(), t.leaderCommit());
    campaign();
  }

  /**
   * A fresh replica asks. A leader names a slot assigned after this answer: the prober may vote
   * once it learns that slot decided. If the leader is idle and the prober has nearly caught up, a
   * no-op is proposed so that slot exists; proposing one for a prober far behind would only move
   * the finish line it is running to.
   */
  private void onProbe(Probe p) {
    freshness.probedBy(tick);
    long leaderSlot = 0;
    if (leader != null) {
      boolean nearlyCaughtUp =
          Slots.add(p.commitIndex(), config.catchupEntriesMax()) >= learner.commitIndex();
      leaderSlot = leader.slotAfterNow(nearlyCaughtUp);
    }
    out.send(new ProbeReply(selfId, p.from(), p.nonce(), acceptor.promised(), freshWithoutHistory(),
        hasHistory(), leaderSlot));
  }

  private void onPrepare(Prepare p) {
    observe(p.ballot());
    if (freshness.isFresh() || p.ballot().node() != p.from() || !configs.latest().isVoter(p.from())) {
      return; // a fresh replica does not vote; a removed member (or a learner) cannot lead
    }
    boolean higher = p.ballot().isAbove(acceptor.promised());
    Message reply = acceptor.onPrepare(p, selfId, learner.commitIndex());
    if (reply instanceof Promise) {
      if (higher) {
        stepDown(); // we promised someone else's higher ballot: our leadership or candidacy is over
      }
      preCandidacy = null; // and we do not start a phase 1 of our own against the one we promised
      electionElapsed = 0; // a candidate making progress: give it time to finish phase 1
    }
    out.send(reply);
  }

  /**
   * Pre-vote: grant iff we vote (a fresh replica does not: it would not promise in phase 1 either,
   * and its commit index may be short of what it knew before its disk was lost), we do not lead,
   * the candidate's commit index is at least ours (rule P1b would refuse it otherwise), and we have
   * not heard from a live leader for electionTicksMin (leader stickiness: a replica that rejoins or
   * whose link flaps cannot depose a leader the others still hear). Nothing changes here, durable or
   * not: not our promise, not our election timer.
   */
  private void onPreVote(PreVote p) {
    boolean granted = !freshness.isFresh() && leader == null && configs.latest().isVoter(p.from())
        && p.commitIndex() >= learner.commitIndex() && !heardFromLeaderRecently();
    out.send(new PreVoteReply(selfId, p.from(), p.ballot(), granted, acceptor.promised(),
        learner.commitIndex()));
  }

  private void onPreVoteReply(PreVoteReply r) {
    observe(r.promised()); // phase 1 starts above every promise we hear of
    if (!r.granted() && r.commitIndex() > learner.commitIndex()) {
      catchUpFrom(r.from()); // refused because we are behind: catch up from the one ahead
    }
    if (preCandidacy == null || !r.granted() || !r.ballot().equals(preCandidacy.ballot)) {
      return;
    }
    if (preCandidacy.grant(r.from())) {
      campaign();
    }
  }

  private void onPromise(Promise p) {
    if (candidacy == null) {
      return;
    }
    long recipients = candidacy.recipients();
    switch (candidacy.onPromise(p)) {
      case NEXT_WINDOW -> {
        electionElapsed = 0; // progress: a majority answered; do not restart phase 1 from scratch
        sendPrepares(false);
      }
      case DONE -> becomeLeader();
      case WAITING -> {
        if (candidacy.recipients() != recipients) {
          sendPrepares(true); // a reported membership's voters must promise too
        }
      }
    }
  }

  private void onNack(Nack n) {
    observe(n.promised());
    Ballot mine = leader != null ? leader.ballot : candidacy != null ? candidacy.ballot : null;
    if (mine == null || !n.rejected().equals(mine)) {
      return;
    }
    if (n.promised().isAbove(mine)) {
      stepDown();
    } else if (candidacy != null && n.commitIndex() > learner.commitIndex()) {
      // Refused by a replica ahead of us on commits (rule P1b): we cannot lead it, and it may well
      // lead us. Stop raising the bar, and catch up from it.
      stepDown();
      catchUpFrom(n.from());
    }
  }

  private void onAccept(Accept a) {
    observe(a.ballot());
    if (a.ballot().node() != a.from()) {
      return;
    }
    if (freshness.isFresh()) {
      followFresh(a.leaderCommit(), a.from());
      return;
    }
    Message reply = acceptor.onAccept(a, selfId, learner.commitIndex());
    if (reply instanceof Accepted) {
      follow(a.ballot(), a.from());
      if (learner.learn(a.ballot(), a.leaderCommit())) {
        learner.requestCatchup(a.from(), tick, false);
      }
    }
    out.send(reply);
  }

  private void onHeartbeat(Heartbeat h) {
    observe(h.ballot());
    if (h.ballot().node() != h.from()) {
      return;
    }
    if (freshness.isFresh()) {
      followFresh(h.leaderCommit(), h.from());
      return;
    }
    if (h.ballot().isBelow(acceptor.promised())) {
      out.send(new Nack(selfId, h.from(), h.ballot(), acceptor.promised(), learner.commitIndex()));
      return;
    }
    follow(h.ballot(), h.from());
    if (h.round() != Heartbeat.COMMIT_NOTICE) {
      // A commit notice confirms no read round and the leader's liveness checks go by its
      // regular heartbeats: answering each would add two messages per write at low load.
      out.send(new HeartbeatAck(selfId, h.from(), h.ballot(), h.round()));
    }
    if (learner.learn(h.ballot(), h.leaderCommit())) {
      learner.requestCatchup(h.from(), tick, false);
    }
  }

  private void onCatchupReply(CatchupReply r) {
    if (leader != null) {
      return; // a leader never asks; this is a stale answer from when it followed
    }
    boolean more = learner.onCatchupReply(r);
    maybeJoin();
    if (more) {
      learner.requestCatchup(r.from(), tick, true);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  /**
   * The election timer expired: pre-vote first. Every member is asked whether it would promise the
   * ballot phase 1 would use, given our commit index; nothing is raised or persisted. A cluster of
   * one grants itself a majority at once.
   */
  private void preVote() {
    stepDown(); // a candidacy that did not finish in an election timeout starts over with a pre-vote
    preCandidacy = new PreCandidacy(config, configs, new Ballot(Slots.add(maxRoundSeen, 1), selfId));
    if (preCandidacy.grant(selfId)) {
      campaign();
      return;
    }
    sendPreVotes(false);
  }

  private void sendPreVotes(boolean onlyMissing) {
    for (int member : configs.latest().voters()) {
      if (member == selfId || (onlyMissing && preCandidacy.hasGrantFrom(member))) {
        continue;
      }
      out.send(new PreVote(selfId, member, preCandidacy.ballot, learner.commitIndex()));
    }
  }

  /** Phase 1 of a new, higher ballot (after a majority granted the pre-vote). */
  private void campaign() {
    stepDown();
    maxRoundSeen++;
    candidacy = new Candidacy(config, configs, new Ballot(maxRoundSeen, selfId), learner.commitIndex() + 1);
    sendPrepares(false);
  }

  /**
   * Prepares the candidacy's current window: to everyone, or only to those yet to promise for it.
   * Ourselves included: skipping slots learned decided meanwhile starts a new window and forgets
   * every promise, ours too, and with one member of three down ours is half the majority.
   */
  private void sendPrepares(boolean onlyMissing) {
    candidacy.skipTo(learner.commitIndex() + 1);
    for (long r = candidacy.recipients() | (1L << selfId); r != 0; r &= r - 1) {
      int member = Long.numberOfTrailingZeros(r);
      if (onlyMissing && candidacy.hasPromiseFrom(member)) {
        continue;
      }
      Prepare p = new Prepare(selfId, member, candidacy.ballot, candidacy.fromSlot(),
          learner.commitIndex());
      if (member == selfId) {
        out.send(acceptor.onPrepare(p, selfId, learner.commitIndex())); // counted at advance()
      } else {
        out.send(p);
      }
    }
  }

  private void becomeLeader() {
    Candidacy won = candidacy;
    candidacy = null;
    leaderId = selfId;
    leader = new Leader(config, configs, out, acceptor, learner, won.ballot, won.reported(), tick);
  }

  /** Back to follower with no known leader; pending reads fail so the driver retries them. */
  private void stepDown() {
    if (leader != null) {
      leader.stepDown();
      leader = null;
    }
    candidacy = null;
    preCandidacy = null;
    leaderId = -1;
    resetElectionTimer();
  }

  /** A valid message from the leader of {@code ballot} (at least our promise). */
  private void follow(Ballot ballot, int from) {
    Ballot mine = leader != null ? leader.ballot : candidacy != null ? candidacy.ballot : null;
    if (mine != null && !mine.equals(ballot)) {
      stepDown();
    }
    preCandidacy = null;
    leaderId = from;
    leaderHeardAtTick = tick;
    electionElapsed = 0;
  }

  /** A fresh replica hears a leader: it catches up (by decided entries), it does not accept. */
  private void followFresh(long leaderCommit, int from) {
    leaderId = from;
    leaderHeardAtTick = tick;
    if (leaderCommit > learner.commitIndex()) {
      learner.requestCatchup(from, tick, false);
    }
  }

  private void maybeJoin() {
    long slot = freshness.joinSlot();
    if (freshness.mayJoin(learner.commitIndex(), slot > 0 ? acceptor.get(slot) : null)) {
      becomeVoter(freshness.votingBallot());
    }
  }

  /**
   * Leaves the fresh state. The promise is persisted even if unchanged, so the driver's next
   * recovery is not fresh.
   */
  private void becomeVoter(Ballot ballot) {
    freshness.becomeVoter();
    acceptor.promise(ballot);
    acceptor.persistPromiseNow();
    maxRoundSeen = Math.max(maxRoundSeen, acceptor.promised().round());
    resetElectionTimer();
  }

  /** The join slot can no longer be seen decided in the join ballot: compacted, or decided otherwise. */
  private boolean joinSlotSpent() {
    long slot = freshness.joinSlot();
    if (slot <= 0) {
      return false;
    }
    Entry e = acceptor.get(slot);
    return slot <= acceptor.snapshotSlot()
        || (slot <= learner.commitIndex() && (e == null || !e.ballot().equals(freshness.joinBallot())));
  }

  /** A founding member that knows nothing of the cluster yet: it may bootstrap it with the others. */
  private boolean freshWithoutHistory() {
    return freshness.mayBootstrap() && acceptor.isEmpty() && learner.commitIndex() == 0 && leaderId < 0;
  }

  /**
   * Something of the cluster happened here: a promise above zero (a phase 1 or a leader), an entry
   * or a commit. A founding member that hears so joins instead of bootstrapping. (Founders that
   * have just bootstrapped have none of these yet, so they hold none of the others back.)
   */
  private boolean hasHistory() {
    return acceptor.promised().isAbove(Ballot.ZERO) || !acceptor.isEmpty() || learner.commitIndex() > 0;
  }

  private void probe() {
    for (int member : configs.latest().voters()) {
      if (member != selfId) {
        out.send(new Probe(selfId, member, freshness.nonce(), learner.commitIndex()));
      }
    }
  }

  /** Asks a replica that is ahead of us for the decided entries we miss (any replica serves them). */
  private void catchUpFrom(int source) {
    if (leader == null && !freshness.isFresh()) {
      learner.requestCatchup(source, tick, false);
    }
  }

  private boolean heardFromLeaderRecently() {
    return leaderHeardAtTick >= 0 && tick - leaderHeardAtTick < config.electionTicksMin();
  }

  private void observe(Ballot b) {
    maxRoundSeen = Math.max(maxRoundSeen, b.round());
  }

  private void resetElectionTimer() {
    electionElapsed = 0;
    electionTimeout = config.electionTicksMin()
        + random.nextInt(config.electionTicksMax() - config.electionTicksMin() + 1);
  }
}
