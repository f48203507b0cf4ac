package dev.synod.server.replication;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Replica;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.DurableStore;
import dev.synod.txn.v1.AcceptedEntry;
import dev.synod.txn.v1.BallotRecord;
import dev.synod.txn.v1.Committed;
import dev.synod.txn.v1.LogEntry;
import dev.synod.txn.v1.Promised;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The acceptor's durable state in this server's write-ahead log: what the consensus module asks
 * to persist becomes log records (one fsync per Ready), and replaying the log rebuilds it. Also
 * decides how much of the log a snapshot makes unnecessary. Consensus thread only. Public for the
 * whole-server simulator, which runs it over a simulated disk.
 */
public final class AcceptorLog implements ReplicaLog {
  private final DurableStore store;
  /** For each slot not yet covered by a kept snapshot: the index of its latest accepted record. */
  private final TreeMap<Long, Long> slotIndex = new TreeMap<>();
  private Ballot promised = Ballot.ZERO;
  /** Whether a promise was ever persisted: until then the acceptor is fresh and must not vote. */
  private boolean promisedEver;
  private long commitIndex;

  public AcceptorLog(DurableStore store) {
    this.store = store;
  }

  /**
   * Rebuilds the acceptor state from the log; {@code snapshotSlot} is what the snapshot covers;
   * {@code founding}: the data directory was created for a new cluster whose id it does not know
   * yet (while it never promised, it may bootstrap that cluster with the other founders).
   */
  public DurableState recover(long snapshotSlot, boolean founding) throws IOException {
    TreeMap<Long, Entry> accepted = new TreeMap<>();
    store.replayLog(record -> {
      switch (record.getBodyCase()) {
        case PROMISED -> {
          promised = max(promised, ballot(record.getPromised().getBallot()));
          promisedEver = true;
        }
        case ACCEPTED -> {
          Entry e = entry(record.getAccepted());
          accepted.put(e.slot(), e); // later records for a slot have ballots >= earlier ones
          slotIndex.put(e.slot(), record.getIndex());
          promised = max(promised, e.ballot());
        }
        case COMMITTED -> commitIndex = Math.max(commitIndex, record.getCommitted().getSlot());
        case BODY_NOT_SET -> { }
      }
    });
    SortedMap<Long, Entry> live = new TreeMap<>(accepted.tailMap(snapshotSlot, false));
    slotIndex.headMap(snapshotSlot, true).clear();
    commitIndex = Math.max(commitIndex, snapshotSlot);
    for (long slot = snapshotSlot + 1; slot <= commitIndex; slot++) {
      if (!live.containsKey(slot)) {
        throw new CorruptLogException("the log says slot " + commitIndex + " is decided but holds no"
            + " value for slot " + slot + "; refusing to start rather than serve wrong data");
      }
    }
    // Fresh means this acceptor never promised anything: entries or a snapshot learned while
    // catching up do not make it a voter (the consensus module decides when it may vote).
    DurableState.Standing standing = promisedEver ? DurableState.Standing.VOTER
        : founding ? DurableState.Standing.FOUNDING : DurableState.Standing.JOINING;
    return new DurableState(promised, live, commitIndex, snapshotSlot, standing);
  }

  long commitIndex() {
    return commitIndex;
  }

  /** Persists what a Ready asks for, with one fsync; does nothing if it asks for nothing. */
  @Override
  public void persist(Replica.Ready ready) throws IOException {
    List<LogEntry> records = new ArrayList<>();
    if (ready.promised() != null) {
      records.add(LogEntry.newBuilder()
          .setPromised(Promised.newBuilder().setBallot(record(ready.promised()))).build());
    }
    for (Entry e : ready.entries()) {
      records.add(LogEntry.newBuilder().setAccepted(record(e)).build());
    }
    if (ready.commitIndex() >= 0) {
      records.add(LogEntry.newBuilder()
          .setCommitted(Committed.newBuilder().setSlot(ready.commitIndex())).build());
    }
    if (records.isEmpty()) {
      return;
    }
    if (ready.promised() == null && ready.entries().isEmpty()) {
      // Only a commit mark: every entry it covers was fsynced in an earlier round, and a mark
      // lost in a crash is simply learned again, so it need not wait for the disk.
      store.appendWithoutSync(records);
    } else {
      store.appendAndSync(records);
    }
    long index = store.lastIndex() - records.size() + 1;
    if (ready.promised() != null) {
      promised = max(promised, ready.promised());
      promisedEver = true;
      index++;
    }
    for (Entry e : ready.entries()) {
      slotIndex.put(e.slot(), index++);
      promised = max(promised, e.ballot());
    }
    if (ready.commitIndex() >= 0) {
      commitIndex = Math.max(commitIndex, ready.commitIndex());
    }
  }

  /**
   * After a snapshot: drops the log records that no kept snapshot needs, i.e. those before the
   * first record for a slot above {@code oldestKeptSnapshotSlot}. The current promise and commit
   * index are written again first, so they always survive truncation.
   */
  @Override
  public void truncateCoveredBy(long oldestKeptSnapshotSlot) throws IOException {
    slotIndex.headMap(oldestKeptSnapshotSlot, true).clear();
    List<LogEntry> keep = new ArrayList<>();
    if (promisedEver) {
      // Never write a promise that was not made: a fresh acceptor must stay fresh.
      keep.add(LogEntry.newBuilder().setPromised(Promised.newBuilder().setBallot(record(promised))).build());
    }
    keep.add(LogEntry.newBuilder().setCommitted(Committed.newBuilder().setSlot(commitIndex)).build());
    store.appendAndSync(keep);
    long cut = store.lastIndex() - keep.size() + 1;
    for (long index : slotIndex.values()) {
      cut = Math.min(cut, index);
    }
    store.truncateLogBefore(cut);
  }

  /** After installing a leader's snapshot: nothing at or below its slot is needed any more. */
  @Override
  public void snapshotInstalled(long slot) {
    slotIndex.headMap(slot, true).clear();
    commitIndex = Math.max(commitIndex, slot);
  }

  @Override
  public void recordClusterIdentity(ClusterIdentity identity) throws IOException {
    store.recordClusterIdentity(identity);
  }

  static AcceptedEntry record(Entry e) {
    return AcceptedEntry.newBuilder()
        .setSlot(e.slot())
        .setBallot(record(e.ballot()))
        // Entry values are never changed once made: wrapped, not copied.
        .setValue(UnsafeByteOperations.unsafeWrap(e.value()))
        .build();
  }

  static Entry entry(AcceptedEntry r) {
    return new Entry(r.getSlot(), ballot(r.getBallot()), r.getValue().toByteArray());
  }

  static BallotRecord record(Ballot b) {
    return BallotRecord.newBuilder().setRound(b.round()).setNode(b.node()).build();
  }

  static Ballot ballot(BallotRecord r) {
    return new Ballot(r.getRound(), r.getNode());
  }

  private static Ballot max(Ballot a, Ballot b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
