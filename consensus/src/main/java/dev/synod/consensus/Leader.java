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

  /** One undecided slot: the leader's value and who has accepted it. */
  private static final class Proposal {
    final Entry entry;
    long ackMask;
    long sentAtTick;
    boolean decided;

    Proposal(Entry entry) {
      this.entry = entry;
    }
  }

  final Ballot ballot;
  private final ReplicaConfig config;
  private final Output out;
  private final Acceptor acceptor;
  private final Learner learner;
  private final int selfIndex;
  private final TreeMap<Long, Proposal> undecided = new TreeMap<>();
  /** Highest slot assigned. */
  private long lastSlot;
  /** Highest slot sent in a first Accept; slots above wait for the pipeline window. */
  private long sentUpTo;
  /** Reads wait until the commit index reaches the last slot re-proposed at election. */
  private final long ownBallotSlot;
  private final long[] peerMatch;
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
  Leader(ReplicaConfig config, Output out, Acceptor acceptor, Learner learner, Ballot ballot,
      SortedMap<Long, Entry> reported, long tick) {
    this.config = config;
    this.out = out;
    this.acceptor = acceptor;
    this.learner = learner;
    this.ballot = ballot;
    this.selfIndex = config.indexOf(config.selfId());
    this.peerMatch = new long[config.members().size()];
    this.reads = new ReadIndex(config, out);
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
    return lastSlot - learner.commitIndex() < config.inflightSlotsMax();
  }

  void propose(byte[] value) {
    add(value);
  }

  private void add(byte[] value) {
    Entry e = new Entry(lastSlot + 1, ballot, value);
    acceptor.acceptOwn(e, learner.commitIndex());
    undecided.put(e.slot(), new Proposal(e));
    lastSlot = e.slot();
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
    for (int peer : config.members()) {
      if (peer != config.selfId()) {
        sendInChunks(peer, batch);
      }
    }
    // Our own acceptance counts once the entries are durable: delivered to us at advance().
    out.send(new Accepted(config.selfId(), config.selfId(), ballot, from, end));
    sentUpTo = end;
  }

  private void sendInChunks(int peer, List<Entry> run) {
    for (int i = 0; i < run.size(); i += config.messageEntriesMax()) {
      List<Entry> chunk = run.subList(i, Math.min(run.size(), i + config.messageEntriesMax()));
      out.send(new Accept(config.selfId(), peer, ballot, learner.commitIndex(), chunk));
    }
  }

  void onAccepted(Accepted a) {
    int index = config.indexOf(a.from());
    heardMask |= 1L << index;
    peerMatch[index] = Math.max(peerMatch[index], a.lastSlot());
    for (Proposal p : undecided.subMap(a.firstSlot(), true, a.lastSlot(), true).values()) {
      p.ackMask |= 1L << index;
      if (!p.decided && Long.bitCount(p.ackMask) >= config.quorum()) {
        p.decided = true;
      }
    }
    boolean advanced = false;
    while (!undecided.isEmpty() && undecided.firstEntry().getValue().decided) {
      undecided.pollFirstEntry();
      learner.commitNext();
      advanced = true;
    }
    if (!advanced) {
      return;
    }
    if (learner.commitIndex() >= ownBallotSlot && reads.ownBallotCommitted(learner.commitIndex())) {
      broadcastHeartbeat(reads.round());
    } else if (undecided.isEmpty()) {
      // Nothing in flight will carry the new commit index to the followers: tell them now, so a
      // write made through a follower completes without waiting for the next heartbeat tick
      // (etcd-raft broadcasts on commit for the same reason). A fresh read round, as on a tick.
      broadcastHeartbeat(reads.startRound());
    }
  }

  void onHeartbeatAck(HeartbeatAck a) {
    int index = config.indexOf(a.from());
    heardMask |= 1L << index;
    reads.onAck(index, a.round());
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
  boolean tick(long tick) {
    if (++heartbeatElapsed >= config.heartbeatTicks()) {
      heartbeatElapsed = 0;
      broadcastHeartbeat(reads.startRound());
      retransmit(tick);
    }
    if (tick >= quorumCheckAtTick) {
      boolean quorumHeard = Long.bitCount(heardMask | (1L << selfIndex)) >= config.quorum();
      heardMask = 0;
      quorumCheckAtTick = tick + config.electionTicksMax();
      return quorumHeard;
    }
    return true;
  }

  private void broadcastHeartbeat(long round) {
    for (int peer : config.members()) {
      if (peer != config.selfId()) {
        out.send(new Heartbeat(config.selfId(), peer, ballot, learner.commitIndex(), round));
      }
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
    for (int i = 0; i < config.members().size(); i++) {
      if (i == selfIndex) {
        continue;
      }
      List<Entry> run = new ArrayList<>();
      for (Proposal p : due) {
        boolean missing = (p.ackMask & (1L << i)) == 0;
        boolean contiguous = run.isEmpty() || run.get(run.size() - 1).slot() + 1 == p.entry.slot();
        if (!run.isEmpty() && (!missing || !contiguous)) {
          sendInChunks(config.members().get(i), run);
          run = new ArrayList<>();
        }
        if (missing) {
          run.add(p.entry);
        }
      }
      if (!run.isEmpty()) {
        sendInChunks(config.members().get(i), run);
      }
    }
    for (Proposal p : due) {
      p.sentAtTick = tick;
    }
  }

  SortedMap<Integer, Long> peerMatch() {
    TreeMap<Integer, Long> match = new TreeMap<>();
    for (int i = 0; i < peerMatch.length; i++) {
      if (i != selfIndex) {
        match.put(config.members().get(i), peerMatch[i]);
      }
    }
    return match;
  }
}
