package dev.synod.consensus;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.HeartbeatAck;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The active leader of one ballot (phase 1 is done): assigns slots, sends them in batched,
 * pipelined Accepts, counts acceptances, and advances the commit index over the decided prefix.
 * A slot is decided when a majority accepted it in this ballot, the leader counting itself only
 * once its own acceptance is durable.
 */
final class Leader {
  private static final byte[] NOOP = new byte[0];

  /** One undecided slot: the leader's value, the membership governing it, and who has accepted it. */
  private static final class Proposal {
    final Entry entry;
    final Membership governing;
    /** Bit {@code id} set for every member that accepted it. */
    long ackMask;
    long sentAtTick;
    boolean decided;

    Proposal(Entry entry, Membership governing) {
      this.entry = entry;
      this.governing = governing;
    }
  }

  final Ballot ballot;
  private final ReplicaConfig config;
  private final Output out;
  private final Acceptor acceptor;
  private final Learner learner;
  private final Configs configs;
  private final int selfId;
  private final TreeMap<Long, Proposal> undecided = new TreeMap<>();
  /**
   * The membership governing the next slot to assign: the latest decided, or the one an undecided
   * membership value proposes (nothing new is proposed until that one is decided).
   */
  private Membership next;
  /** The highest undecided slot holding a membership, or -1: no other value is proposed after it until decided. */
  private long configSlot = -1;
  /** Members of every membership governing an undecided slot, beyond the latest decided (bit per id). */
  private long pendingRecipients;
  /**
   * Members a decided membership removed: still sent heartbeats for a while so they learn it (and
   * stop campaigning) instead of believing themselves voters until someone tells them.
   */
  private long farewellMask;
  private long farewellUntilTick;
  /** A leadership transfer in progress: its target (-1: none) and when it gives up. */
  private int transferTarget = -1;
  private long transferUntilTick;
  private boolean transferSent;
  /** Highest slot assigned. */
  private long lastSlot;
  /** Highest slot sent in a first Accept; slots above wait for the pipeline window. */
  private long sentUpTo;
  /** Reads wait until the commit index reaches the last slot re-proposed at election. */
  private final long ownBallotSlot;
  /** The highest slot each member acknowledged, by id. */
  private final long[] peerMatch = new long[Membership.ID_MAX + 1];
  /** The last tick each member acknowledged an Accept of this ballot, by id (-1: never). */
  private final long[] ackedAtTick = new long[Membership.ID_MAX + 1];
  private long nowTick;
  private final ReadIndex reads;
  private final int retransmitTicks;
  private int heartbeatElapsed;
  private long heardMask;
  private long quorumCheckAtTick;

  /**
   * Becomes leader: re-proposes, in this ballot, the highest-ballot value reported for every slot
   * from the commit index + 1 to the highest reported slot, and a no-op for each gap (at least one
   * slot, so the leader commits something of its own).
   */
  Leader(ReplicaConfig config, Configs configs, Output out, Acceptor acceptor, Learner learner,
      Ballot ballot, SortedMap<Long, Entry> reported, long tick) {
    this.config = config;
    this.configs = configs;
    this.out = out;
    this.acceptor = acceptor;
    this.learner = learner;
    this.ballot = ballot;
    this.selfId = config.selfId();
    this.next = configs.latest();
    java.util.Arrays.fill(ackedAtTick, -1);
    this.nowTick = tick;
    this.reads = new ReadIndex(config, out, this::isReadQuorum);
    this.retransmitTicks = Math.max(2 * config.heartbeatTicks(), config.electionTicksMin() / 2);
    this.quorumCheckAtTick = tick + config.electionTicksMax();
    long first = learner.commitIndex() + 1;
    long last = Math.max(first, reported.isEmpty() ? 0 : reported.lastKey());
    this.lastSlot = first - 1;
    this.sentUpTo = first - 1;
    for (long slot = first; slot <= last; slot++) {
      Entry old = reported.get(slot);
      add(old == null ? NOOP : old.value());
    }
    this.ownBallotSlot = last;
    broadcastHeartbeat(reads.startRound());
  }

  /**
   * A slot assigned after this call: the next one, or, if the leader is idle (nothing undecided)
   * and {@code proposeIfIdle}, a no-op proposed now so the slot is decided without waiting for
   * clients.
   */
  long slotAfterNow(boolean proposeIfIdle) {
    if (proposeIfIdle && lastSlot == learner.commitIndex() && canPropose()) {
      add(NOOP);
      return lastSlot;
    }
    return lastSlot + 1;
  }

  boolean canPropose() {
    return lastSlot - learner.commitIndex() < config.inflightSlotsMax() && configSlot < 0
        && transferTarget < 0;
  }

  void propose(byte[] value) {
    add(value);
  }

  /** No membership change nor leadership transfer is in progress. */
  boolean settled() {
    return configSlot < 0 && transferTarget < 0;
  }

  private void add(byte[] value) {
    Entry e = new Entry(lastSlot + 1, ballot, value);
    acceptor.acceptOwn(e, learner.commitIndex());
    undecided.put(e.slot(), new Proposal(e, next));
    pendingRecipients |= next.memberMask();
    lastSlot = e.slot();
    if (Membership.isConfigValue(value)) {
      // It governs the slots after it once decided; until then nothing else is proposed, so
      // every value after it is proposed under it (see Candidacy).
      next = Membership.decode(value);
      configSlot = e.slot();
      pendingRecipients |= next.memberMask();
    }
  }

  /** Everyone the leader sends to: every member of every membership in play (bit per id). */
  private long recipients() {
    long farewell = nowTick < farewellUntilTick ? farewellMask : 0;
    return (configs.latest().memberMask() | pendingRecipients | farewell) & ~(1L << selfId);
  }

  private long windowEnd() {
    return Math.min(lastSlot, Slots.add(learner.commitIndex(), config.inflightSlotsMax()));
  }

  boolean hasUnsent() {
    return sentUpTo < windowEnd();
  }

  /** Sends every assigned slot inside the pipeline window that was not sent yet. */
  void flush(long tick) {
    long end = windowEnd();
    if (sentUpTo >= end) {
      return;
    }
    long from = sentUpTo + 1;
    List<Entry> batch = new ArrayList<>();
    for (Proposal p : undecided.subMap(from, true, end, true).values()) {
      p.sentAtTick = tick;
      batch.add(p.entry);
    }
    for (long r = recipients(); r != 0; r &= r - 1) {
      sendInChunks(Long.numberOfTrailingZeros(r), batch);
    }
    // Our own acceptance counts once the entries are durable: delivered to us at advance().
    out.send(new Accepted(selfId, selfId, ballot, from, end));
    sentUpTo = end;
  }

  private void sendInChunks(int peer, List<Entry> run) {
    for (int i = 0; i < run.size(); i += config.messageEntriesMax()) {
      List<Entry> chunk = run.subList(i, Math.min(run.size(), i + config.messageEntriesMax()));
      out.send(new Accept(selfId, peer, ballot, learner.commitIndex(), chunk));
    }
  }

  void onAccepted(Accepted a) {
    int id = a.from();
    if (id > Membership.ID_MAX) {
      return;
    }
    heardMask |= 1L << id;
    peerMatch[id] = Math.max(peerMatch[id], a.lastSlot());
    ackedAtTick[id] = nowTick;
    for (Proposal p : undecided.subMap(a.firstSlot(), true, a.lastSlot(), true).values()) {
      p.ackMask |= 1L << id;
      if (!p.decided && p.governing.isQuorum(p.ackMask)) {
        p.decided = true;
      }
    }
    boolean advanced = false;
    while (!undecided.isEmpty() && undecided.firstEntry().getValue().decided) {
      Proposal p = undecided.pollFirstEntry().getValue();
      learner.commitNext();
      if (p.entry.slot() == configSlot) {
        configSlot = -1; // decided: it now governs (Configs learned it), new values may follow
      }
      if (Membership.isConfigValue(p.entry.value())) {
        farewellMask |= p.governing.memberMask() & ~configs.latest().memberMask();
        farewellUntilTick = nowTick + 2L * config.electionTicksMax();
      }
      advanced = true;
    }
    if (undecided.isEmpty()) {
      pendingRecipients = 0;
    }
    maybeSendTimeoutNow();
    if (!advanced) {
      return;
    }
    if (learner.commitIndex() >= ownBallotSlot && reads.ownBallotCommitted(learner.commitIndex())) {
      broadcastHeartbeat(reads.round());
    } else if (undecided.isEmpty()) {
      // Nothing in flight will carry the new commit index to the followers: tell them now, so a
      // write made through a follower completes without waiting for the next heartbeat tick
      // (etcd-raft broadcasts on commit for the same reason). A notice only, not a read round:
      // followers do not answer it (reads start rounds of their own when they need one).
      broadcastHeartbeat(Heartbeat.COMMIT_NOTICE);
    }
  }

  void onHeartbeatAck(HeartbeatAck a) {
    if (a.from() > Membership.ID_MAX) {
      return;
    }
    heardMask |= 1L << a.from();
    ackedAtTick[a.from()] = nowTick; // it votes (a fresh replica does not answer) and hears us
    reads.onAck(a.from(), a.round());
  }

  /**
   * A read is confirmed by a majority of the latest decided membership's voters, and, while a
   * membership change is undecided, of the proposed one's too: either may decide the next slot.
   */
  private boolean isReadQuorum(long mask) {
    return configs.latest().isQuorum(mask) && next.isQuorum(mask);
  }

  /**
   * Hands leadership to {@code target}: stops proposing, waits until the target has acknowledged
   * every slot and all are decided, then tells it to campaign at once (TimeoutNow). Gives up after
   * an election timeout, and proposing resumes.
   */
  boolean transfer(int target, long tick) {
    if (target == selfId || !configs.latest().isVoter(target) || !settled()
        || ackedAtTick[target] < 0 || nowTick - ackedAtTick[target] > config.electionTicksMax()) {
      return false;
    }
    transferTarget = target;
    transferUntilTick = tick + config.electionTicksMax();
    transferSent = false;
    maybeSendTimeoutNow();
    return true;
  }

  int transferTarget() {
    return transferTarget;
  }

  private void maybeSendTimeoutNow() {
    if (transferTarget < 0 || transferSent || !undecided.isEmpty()
        || peerMatch[transferTarget] < lastSlot) {
      return;
    }
    transferSent = true;
    out.send(new Message.TimeoutNow(selfId, transferTarget, ballot, learner.commitIndex()));
  }

  void requestRead(long readId) {
    if (reads.request(readId, learner.commitIndex() >= ownBallotSlot, learner.commitIndex())) {
      broadcastHeartbeat(reads.round());
    }
  }

  void readyTaken() {
    reads.readyTaken();
  }

  void stepDown() {
    reads.failAll();
  }

  /** Heartbeats and retransmissions; false if a majority has gone quiet (the leader should step down). */
  /**
   * True if {@code next} keeps a quorum of voters that have acknowledged this leader within an
   * election timeout (it counts itself), and every voter {@code next} adds is one of them (etcd's
   * strict reconfiguration check): a membership whose quorum needs a member that is down, cut off
   * or fresh (not yet admitted: it accepts nothing, and only a live leader can admit it) could leave
   * the cluster without a quorum for good the moment it is decided. Adding a learner or an
   * observer changes no quorum; removing a dead voter is how it is replaced.
   */
  boolean keepsActiveQuorum(Membership next) {
    long active = 1L << selfId;
    for (int id : next.voters()) {
      if (id != selfId && ackedAtTick[id] >= 0 && nowTick - ackedAtTick[id] <= config.electionTicksMax()) {
        active |= 1L << id;
      }
    }
    long added = next.voterMask() & ~configs.latest().voterMask();
    return next.isQuorum(active) && (added & ~active) == 0;
  }

  /** A voter {@code next} adds that has not acknowledged this leader lately (it has not joined yet), or -1. */
  int inactiveAddedVoter(Membership next) {
    long added = next.voterMask() & ~configs.latest().voterMask();
    if (added == 0) {
      return -1;
    }
    int id = Long.numberOfTrailingZeros(added);
    return ackedAtTick[id] >= 0 && nowTick - ackedAtTick[id] <= config.electionTicksMax() ? -1 : id;
  }

  boolean tick(long tick) {
    nowTick = tick;
    if (transferTarget >= 0 && tick >= transferUntilTick) {
      transferTarget = -1; // the target did not take over in time: carry on leading
    }
    if (transferTarget >= 0 && transferSent && heartbeatElapsed + 1 >= config.heartbeatTicks()) {
      transferSent = false; // lost? say it again with the next heartbeat
      maybeSendTimeoutNow();
    }
    if (++heartbeatElapsed >= config.heartbeatTicks()) {
      heartbeatElapsed = 0;
      broadcastHeartbeat(reads.startRound());
      retransmit(tick);
    }
    if (tick >= quorumCheckAtTick) {
      boolean quorumHeard = configs.latest().isQuorum(heardMask | (1L << selfId));
      heardMask = 0;
      quorumCheckAtTick = tick + config.electionTicksMax();
      return quorumHeard;
    }
    return true;
  }

  private void broadcastHeartbeat(long round) {
    for (long r = recipients(); r != 0; r &= r - 1) {
      out.send(new Heartbeat(selfId, Long.numberOfTrailingZeros(r), ballot, learner.commitIndex(), round));
    }
  }

  /** Re-sends sent-but-undecided slots that a peer has not acknowledged for a while. */
  private void retransmit(long tick) {
    List<Proposal> due = new ArrayList<>();
    for (Proposal p : undecided.headMap(sentUpTo, true).values()) {
      if (!p.decided && tick - p.sentAtTick >= retransmitTicks) {
        due.add(p);
      }
    }
    if (due.isEmpty()) {
      return;
    }
    for (long r = recipients(); r != 0; r &= r - 1) {
      int i = Long.numberOfTrailingZeros(r);
      List<Entry> run = new ArrayList<>();
      for (Proposal p : due) {
        boolean missing = (p.ackMask & (1L << i)) == 0;
        boolean contiguous = run.isEmpty() || run.get(run.size() - 1).slot() + 1 == p.entry.slot();
        if (!run.isEmpty() && (!missing || !contiguous)) {
          sendInChunks(i, run);
          run = new ArrayList<>();
        }
        if (missing) {
          run.add(p.entry);
        }
      }
      if (!run.isEmpty()) {
        sendInChunks(i, run);
      }
    }
    for (Proposal p : due) {
      p.sentAtTick = tick;
    }
  }

  SortedMap<Integer, Long> peerMatch() {
    TreeMap<Integer, Long> match = new TreeMap<>();
    for (long r = recipients(); r != 0; r &= r - 1) {
      int id = Long.numberOfTrailingZeros(r);
      match.put(id, peerMatch[id]);
    }
    return match;
  }
}
