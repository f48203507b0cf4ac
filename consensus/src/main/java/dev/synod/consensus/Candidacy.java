package dev.synod.consensus;

import dev.synod.consensus.Message.Promise;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Phase 1 of one ballot, run once for all open slots. Each Promise reports a window of slots;
 * when a majority has promised, the slots every one of them covered are settled (keeping the
 * highest-ballot value per slot) and, if some acceptor had more, the next window is prepared
 * (same ballot: promising it again is idempotent). Each window's values come from a majority
 * that promised this ballot, which is all Paxos needs per slot.
 */
final class Candidacy {
  enum Progress { WAITING, NEXT_WINDOW, DONE }

  final Ballot ballot;
  private final ReplicaConfig config;
  private final Promise[] promises;
  private final TreeMap<Long, Entry> reported = new TreeMap<>();
  private long fromSlot;
  private int resendElapsed;

  Candidacy(ReplicaConfig config, Ballot ballot, long fromSlot) {
    this.config = config;
    this.ballot = ballot;
    this.fromSlot = fromSlot;
    this.promises = new Promise[config.members().size()];
  }

  long fromSlot() {
    return fromSlot;
  }

  /** Slots up to the commit index need no phase 1: skip them if we learned more meanwhile. */
  void skipTo(long slot) {
    if (slot > fromSlot) {
      fromSlot = slot;
      Arrays.fill(promises, null);
    }
  }

  boolean hasPromiseFrom(int memberIndex) {
    return promises[memberIndex] != null;
  }

  /** True every heartbeat interval: time to re-send the Prepare to those that have not promised. */
  boolean resendDue() {
    if (++resendElapsed >= config.heartbeatTicks()) {
      resendElapsed = 0;
      return true;
    }
    return false;
  }

  Progress onPromise(Promise p, int memberIndex) {
    if (!p.ballot().equals(ballot) || p.fromSlot() != fromSlot) {
      return Progress.WAITING;
    }
    promises[memberIndex] = p;
    int count = 0;
    long coveredTo = Promise.COVERS_ALL;
    for (Promise q : promises) {
      if (q != null) {
        count++;
        coveredTo = Math.min(coveredTo, q.coveredTo());
      }
    }
    if (count < config.quorum()) {
      return Progress.WAITING;
    }
    for (Promise q : promises) {
      if (q == null) {
        continue;
      }
      for (Entry e : q.entries()) {
        if (e.slot() > coveredTo) {
          break;
        }
        Entry current = reported.get(e.slot());
        if (current == null || e.ballot().isAbove(current.ballot())) {
          reported.put(e.slot(), e);
        }
      }
    }
    if (coveredTo == Promise.COVERS_ALL) {
      return Progress.DONE;
    }
    fromSlot = coveredTo + 1;
    Arrays.fill(promises, null);
    return Progress.NEXT_WINDOW;
  }

  /** The highest-ballot entry reported per slot, across all windows. */
  SortedMap<Long, Entry> reported() {
    return reported;
  }
}
