package dev.synod.consensus;

import dev.synod.consensus.Message.Promise;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Phase 1 of one ballot, run once for all open slots. Each Promise reports a window of slots;
 * when the promises settle a window (below), its slots are settled (keeping the highest-ballot
 * value per slot) and, if some acceptor had more, the next window is prepared (same ballot:
 * promising it again is idempotent).
 *
 * <p>Which promises settle a window depends on the memberships that govern its slots. The slots
 * after the commit index start under the latest membership known decided; a membership among the
 * reported values at slot j (the highest-ballot one, which this leader will re-propose) governs
 * the slots after j, so a majority of its voters must have promised as well before those slots'
 * values are known. A leader proposes nothing after a membership until it is decided, so every
 * value reported after j was proposed under it; and each membership differs from the one before
 * by one voter at most, so the majorities of consecutive memberships intersect. Each slot's value
 * thus comes from a majority of the voters that govern it, which is all Paxos needs per slot.
 */
final class Candidacy {
  enum Progress { WAITING, NEXT_WINDOW, DONE }

  final Ballot ballot;
  private final ReplicaConfig config;
  private final Configs configs;
  /** This window's promises, by member id. */
  private final Promise[] promises = new Promise[Membership.ID_MAX + 1];
  private final TreeMap<Long, Entry> reported = new TreeMap<>();
  private long fromSlot;
  private int resendElapsed;
  /** Voters of memberships met in reported values whose promises this window still needs. */
  private long extraVoters;

  Candidacy(ReplicaConfig config, Configs configs, Ballot ballot, long fromSlot) {
    this.config = config;
    this.configs = configs;
    this.ballot = ballot;
    this.fromSlot = fromSlot;
  }

  long fromSlot() {
    return fromSlot;
  }

  /** Slots up to the commit index need no phase 1: skip them if we learned more meanwhile. */
  void skipTo(long slot) {
    if (slot > fromSlot) {
      fromSlot = slot;
      Arrays.fill(promises, null);
      reported.headMap(slot).clear();
    }
  }

  /** Every member the Prepare of the current window goes to (bit per id). */
  long recipients() {
    return windowStart().voterMask() | configs.latest().voterMask() | extraVoters;
  }

  boolean hasPromiseFrom(int memberId) {
    return promises[memberId] != null;
  }

  /** True every heartbeat interval: time to re-send the Prepare to those that have not promised. */
  boolean resendDue() {
    if (++resendElapsed >= config.heartbeatTicks()) {
      resendElapsed = 0;
      return true;
    }
    return false;
  }

  Progress onPromise(Promise p) {
    if (!p.ballot().equals(ballot) || p.fromSlot() != fromSlot || p.from() > Membership.ID_MAX) {
      return Progress.WAITING;
    }
    promises[p.from()] = p;
    long mask = 0;
    long coveredTo = Promise.COVERS_ALL;
    for (Promise q : promises) {
      if (q != null) {
        mask |= 1L << q.from();
        coveredTo = Math.min(coveredTo, q.coveredTo());
      }
    }
    Membership governing = windowStart();
    if (!governing.isQuorum(mask) || !configs.latest().isQuorum(mask)) {
      return Progress.WAITING;
    }
    TreeMap<Long, Entry> merged = new TreeMap<>();
    for (Promise q : promises) {
      if (q == null) {
        continue;
      }
      for (Entry e : q.entries()) {
        if (e.slot() > coveredTo) {
          break;
        }
        Entry current = merged.get(e.slot());
        if (current == null || e.ballot().isAbove(current.ballot())) {
          merged.put(e.slot(), e);
        }
      }
    }
    for (Entry e : merged.values()) {
      if (Membership.isConfigValue(e.value())) {
        Membership next = Membership.decode(e.value());
        if (!next.isQuorum(mask)) {
          extraVoters |= next.voterMask(); // ask them too (the caller re-sends the Prepare)
          return Progress.WAITING;
        }
      }
    }
    reported.putAll(merged);
    if (coveredTo == Promise.COVERS_ALL) {
      return Progress.DONE;
    }
    fromSlot = coveredTo + 1;
    Arrays.fill(promises, null);
    extraVoters = 0;
    return Progress.NEXT_WINDOW;
  }

  /** The membership governing the first slot of the current window, as the reported values chain it. */
  private Membership windowStart() {
    Membership m = configs.latest();
    for (Map.Entry<Long, Entry> e : reported.entrySet()) {
      if (Membership.isConfigValue(e.getValue().value())) {
        m = Membership.decode(e.getValue().value());
      }
    }
    return m;
  }

  /** The highest-ballot entry reported per slot, across all windows. */
  SortedMap<Long, Entry> reported() {
    return reported;
  }
}
