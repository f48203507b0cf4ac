package dev.synod.consensus;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.Nack;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The Paxos acceptor for every slot at once: one promised ballot, and the latest accepted entry
 * per slot above the snapshot. Every change goes to {@link Output} to be persisted, and every
 * reply rides in the same Ready as the state it reports, so it is durable before it is sent.
 */
final class Acceptor {
  private final Output out;
  private final int catchupEntriesMax;
  private Ballot promised;
  private final TreeMap<Long, Entry> log;
  private long snapshotSlot;

  Acceptor(DurableState recovered, Output out, int catchupEntriesMax) {
    this.out = out;
    this.catchupEntriesMax = catchupEntriesMax;
    this.log = new TreeMap<>(recovered.accepted());
    this.snapshotSlot = recovered.snapshotSlot();
    Ballot p = recovered.promised();
    for (Entry e : log.values()) {
      p = Ballot.max(p, e.ballot()); // accepting a ballot implies promising it
    }
    this.promised = p;
  }

  Ballot promised() {
    return promised;
  }

  long snapshotSlot() {
    return snapshotSlot;
  }

  long lastSlot() {
    return log.isEmpty() ? snapshotSlot : log.lastKey();
  }

  boolean isEmpty() {
    return log.isEmpty() && snapshotSlot == 0;
  }

  Entry get(long slot) {
    return log.get(slot);
  }

  /** Raises the promise (never lowers it); persisted with the next Ready. */
  void promise(Ballot ballot) {
    if (ballot.isAbove(promised)) {
      promised = ballot;
      out.persistPromise(ballot);
    }
  }

  /** Persists the current promise even if unchanged (a fresh replica becoming a voter). */
  void persistPromiseNow() {
    out.persistPromise(promised);
  }

  /**
   * Rule P1b: promise iff the ballot is at least the current promise and the candidate's
   * commit index is at least ours (a candidate behind us would lack decided values that we may
   * have compacted). Report every accepted entry from fromSlot, one window at a time.
   */
  Message onPrepare(Prepare p, int selfId, long commitIndex) {
    if (p.ballot().isBelow(promised) || p.commitIndex() < commitIndex) {
      return new Nack(selfId, p.from(), p.ballot(), promised, commitIndex);
    }
    promise(p.ballot());
    long windowEnd = Slots.add(p.fromSlot(), catchupEntriesMax - 1);
    long coveredTo = lastSlot() > windowEnd ? windowEnd : Promise.COVERS_ALL;
    List<Entry> reported = new ArrayList<>(log.subMap(p.fromSlot(), true, coveredTo, true).values());
    return new Promise(selfId, p.from(), p.ballot(), p.fromSlot(), coveredTo, reported);
  }

  /**
   * Rule P2b: accept iff the ballot is at least the current promise (which it then becomes).
   * Slots already covered by our snapshot are decided; they are acknowledged without storing,
   * because a leader's value for a decided slot is the decided value.
   *
   * <p>Except a deposed leader's. A follower learns decisions without promising (a heartbeat names
   * the commit index, a CatchupReply brings the entry), so an Accept whose ballot passes the promise
   * check may still propose, for a slot we know decided, a value other than the decided one. By
   * P2c every ballot at or above the one that chose a value proposes that value, so this Accept's
   * ballot is below the choosing ballot, whose leader had a majority promise at least that: no
   * Accept of this ballot can reach a majority again, and refusing all of it loses nothing. We keep
   * the decided entry and send no Accepted (it would claim an acceptance we did not store, and an
   * acceptor's word is all a leader counts), and refuse naming the higher of our promise and the
   * decided entry's ballot (its leader completed phase 1, so a majority promised at least that), so
   * the deposed leader steps down at once instead of retransmitting. Our promise is not raised: we promised nothing new. A
   * compacted slot cannot be compared; acknowledging it stays safe because a ballot that can still
   * reach a majority proposes the decided value there.
   */
  Message onAccept(Accept a, int selfId, long commitIndex) {
    if (a.ballot().isBelow(promised)) {
      return new Nack(selfId, a.from(), a.ballot(), promised, commitIndex);
    }
    Entry decided = decidedOtherwise(a, commitIndex);
    if (decided != null) {
      return new Nack(selfId, a.from(), a.ballot(), Ballot.max(promised, decided.ballot()), commitIndex);
    }
    promise(a.ballot());
    for (Entry e : a.entries()) {
      if (e.slot() > snapshotSlot) {
        accept(e, commitIndex);
      }
    }
    return new Accepted(selfId, a.from(), a.ballot(), a.firstSlot(), a.lastSlot());
  }

  /** Our entry for the first slot of {@code a} we know decided with another value, or null. */
  private Entry decidedOtherwise(Accept a, long commitIndex) {
    for (Entry e : a.entries()) {
      if (e.slot() > commitIndex) {
        break; // entries are contiguous and ascending: the rest are undecided here too
      }
      Entry current = log.get(e.slot());
      if (current != null && !current.sameValue(e)) {
        return current;
      }
    }
    return null;
  }

  /** The leader accepting its own proposal (its promise is its ballot). */
  void acceptOwn(Entry e, long commitIndex) {
    if (!e.ballot().equals(promised)) {
      throw new IllegalStateException("leader's own acceptor promised " + promised + ", not " + e.ballot());
    }
    accept(e, commitIndex);
  }

  /** Stores a decided entry learned from a peer. */
  void storeDecided(Entry e) {
    if (e.slot() <= snapshotSlot) {
      return;
    }
    Entry current = log.get(e.slot());
    if (current != null && current.sameValue(e)) {
      return; // already holds the decided value
    }
    log.put(e.slot(), e);
    out.persistEntry(e);
  }

  private void accept(Entry e, long commitIndex) {
    Entry current = log.get(e.slot());
    if (e.slot() <= commitIndex && current != null && !current.sameValue(e)) {
      // onAccept refuses such an Accept and a leader proposes only above its commit index: a bug.
      throw new IllegalStateException("safety violation: slot " + e.slot() + " is decided as "
          + current + " but ballot " + e.ballot() + " proposes " + e);
    }
    if (e.equals(current)) {
      return; // a retransmission
    }
    log.put(e.slot(), e);
    out.persistEntry(e);
  }

  /** Up to {@code max} entries in [from, to], ascending. */
  List<Entry> entries(long from, long to, int max) {
    List<Entry> result = new ArrayList<>();
    if (from > to) {
      return result;
    }
    for (Entry e : log.subMap(from, true, to, true).values()) {
      if (result.size() >= max) {
        break;
      }
      result.add(e);
    }
    return result;
  }

  /** Forgets everything at or below {@code slot} (covered by a snapshot). */
  void compact(long slot) {
    if (slot <= snapshotSlot) {
      return;
    }
    snapshotSlot = slot;
    log.headMap(slot, true).clear();
  }
}
