package dev.synod.consensus;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * What the replica has produced since the last {@link Replica#ready()}: state to persist,
 * messages to send, read results. Replies a replica addresses to itself (its own Promise or
 * Accepted) are held back and delivered at {@link Replica#advance()}, i.e. only once the state
 * they vouch for is durable.
 */
final class Output {
  private final int selfId;
  Ballot promised;
  final TreeMap<Long, Entry> entries = new TreeMap<>();
  long commitIndex = -1;
  final List<Message> messages = new ArrayList<>();
  final List<Message> toSelfAfterPersist = new ArrayList<>();
  final List<Replica.ReadState> reads = new ArrayList<>();
  boolean snapshotNeededChanged;

  Output(int selfId) {
    this.selfId = selfId;
  }

  void send(Message m) {
    if (m.to() == selfId) {
      toSelfAfterPersist.add(m);
    } else {
      messages.add(m);
    }
  }

  void persistPromise(Ballot ballot) {
    promised = ballot;
  }

  void persistEntry(Entry e) {
    entries.put(e.slot(), e);
  }

  void persistCommit(long index) {
    commitIndex = index;
  }

  boolean isEmpty() {
    return promised == null && entries.isEmpty() && commitIndex < 0 && messages.isEmpty()
        && toSelfAfterPersist.isEmpty() && reads.isEmpty() && !snapshotNeededChanged;
  }

  void clear() {
    promised = null;
    entries.clear();
    commitIndex = -1;
    messages.clear();
    toSelfAfterPersist.clear();
    reads.clear();
    snapshotNeededChanged = false;
  }
}
