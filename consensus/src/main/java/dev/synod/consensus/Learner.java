package dev.synod.consensus;

import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.SnapshotRequired;
import java.util.ArrayList;
import java.util.List;

/**
 * Which slots are decided, and handing them out once, in order. A follower learns a slot from
 * the leader's commit index only if its own entry carries the leader's ballot (then it is the
 * leader's value, which is the decided one); otherwise it catches up by asking for decided
 * entries, or for a snapshot when the entries are compacted away.
 */
final class Learner {
  private final ReplicaConfig config;
  private final Output out;
  private final Acceptor acceptor;
  private final Configs configs;
  private long commitIndex;
  /** Decided slots up to here were handed out in a Ready (or are covered by the snapshot). */
  private long handedOut;
  private long snapshotNeeded = -1;
  /** The replica that last said our entries are compacted away (it holds the snapshot); -1: none. */
  private int snapshotHolder = -1;
  private long catchupAllowedAtTick;

  Learner(ReplicaConfig config, Output out, Acceptor acceptor, Configs configs, DurableState recovered) {
    this.config = config;
    this.out = out;
    this.acceptor = acceptor;
    this.configs = configs;
    this.commitIndex = recovered.commitIndex();
    this.handedOut = recovered.snapshotSlot();
    for (long slot = recovered.snapshotSlot() + 1; slot <= commitIndex; slot++) {
      configs.decided(acceptor.get(slot)); // memberships decided in the log after the snapshot
    }
  }

  /** The slot after the commit index is decided: every decision passes here (memberships take effect). */
  private void decideNext() {
    commitIndex++;
    configs.decided(acceptor.get(commitIndex));
  }

  long commitIndex() {
    return commitIndex;
  }

  long snapshotNeeded() {
    return snapshotNeeded;
  }

  boolean hasUnhandedCommits() {
    return commitIndex > handedOut;
  }

  /** The slot after the commit index is decided and our entry holds its value (leader's path). */
  void commitNext() {
    decideNext();
    out.persistCommit(commitIndex);
  }

  /**
   * Learning rule: slot s is decided if s <= leaderCommit and our entry for s was accepted in
   * the leader's ballot. Returns true if we are still behind the leader afterwards.
   */
  boolean learn(Ballot leaderBallot, long leaderCommit) {
    long before = commitIndex;
    while (commitIndex < leaderCommit) {
      Entry e = acceptor.get(commitIndex + 1);
      if (e == null || !e.ballot().equals(leaderBallot)) {
        break;
      }
      decideNext();
    }
    if (commitIndex > before) {
      out.persistCommit(commitIndex);
    }
    return commitIndex < leaderCommit;
  }

  /** Asks {@code source} for decided entries after our commit index, at most once per retry interval. */
  void requestCatchup(int source, long tick, boolean immediately) {
    if (source < 0 || source == config.selfId() || (!immediately && tick < catchupAllowedAtTick)) {
      return;
    }
    catchupAllowedAtTick = tick + 3L * config.heartbeatTicks();
    out.send(new CatchupRequest(config.selfId(), source, commitIndex + 1));
  }

  /** Any replica answers from its decided prefix; compacted slots need the snapshot. */
  Message serveCatchup(CatchupRequest r) {
    if (r.fromSlot() <= acceptor.snapshotSlot()) {
      return new SnapshotRequired(config.selfId(), r.from(), acceptor.snapshotSlot());
    }
    List<Entry> decided = acceptor.entries(r.fromSlot(), commitIndex, config.catchupEntriesMax());
    return new CatchupReply(config.selfId(), r.from(), commitIndex, decided);
  }

  /** Stores and commits the contiguous decided entries; true if the sender has more for us. */
  boolean onCatchupReply(CatchupReply r) {
    long before = commitIndex;
    for (Entry e : r.entries()) {
      if (e.slot() <= commitIndex) {
        continue;
      }
      if (e.slot() != commitIndex + 1) {
        break;
      }
      acceptor.storeDecided(e);
      decideNext();
    }
    if (commitIndex > before) {
      out.persistCommit(commitIndex);
    }
    return commitIndex > before && commitIndex < r.commitIndex();
  }

  int snapshotHolder() {
    return snapshotHolder;
  }

  void onSnapshotRequired(SnapshotRequired s) {
    snapshotHolder = s.from();
    if (s.snapshotSlot() > commitIndex && s.snapshotSlot() != snapshotNeeded) {
      snapshotNeeded = s.snapshotSlot();
    }
    if (snapshotNeeded >= 0) {
      out.snapshotNeededChanged = true; // reported again, in case an earlier fetch failed
    }
  }

  /** The driver installed a snapshot through {@code slot}: its state machine is at {@code slot}. */
  void snapshotInstalled(long slot, Membership membership) {
    acceptor.compact(slot);
    configs.installed(slot, membership);
    if (slot > commitIndex) {
      commitIndex = slot;
      out.persistCommit(commitIndex);
    }
    handedOut = slot;
    if (snapshotNeeded >= 0 && slot >= snapshotNeeded) {
      snapshotNeeded = -1;
    }
  }

  void compact(long slot) {
    if (slot > handedOut) {
      throw new IllegalArgumentException("compact(" + slot + ") beyond the slots handed out ("
          + handedOut + ")");
    }
    acceptor.compact(slot);
    configs.compact(slot);
  }

  /** The newly decided entries, in slot order; each is handed out once. */
  List<Entry> takeCommitted() {
    List<Entry> committed = new ArrayList<>();
    for (long slot = handedOut + 1; slot <= commitIndex; slot++) {
      Entry e = acceptor.get(slot);
      if (e == null) {
        throw new IllegalStateException("slot " + slot + " is decided but its entry is missing");
      }
      committed.add(e);
    }
    handedOut = commitIndex;
    return committed;
  }
}
