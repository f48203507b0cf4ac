package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.Heartbeat;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * How replicas learn decisions: from the leader's commit index only for entries carrying the
 * leader's ballot; otherwise by catching up with decided entries, or with a snapshot when the
 * leader has compacted them away. Each decided entry is handed out once, in order.
 */
class LearnerRulesTest {
  private static final Ballot OLD = new Ballot(1, 1);
  private static final Ballot NEW = new Ballot(2, 3);

  private static Replica follower(Entry... accepted) {
    TreeMap<Long, Entry> log = new TreeMap<>();
    Ballot promised = Ballot.ZERO;
    for (Entry e : accepted) {
      log.put(e.slot(), e);
      promised = Ballot.max(promised, e.ballot());
    }
    Replica r = new Replica(Cluster.config(2, 3), new DurableState(promised, log, 0, 0, false), Cluster.ZERO);
    while (r.hasReady()) {
      r.ready();
      r.advance();
    }
    return r;
  }

  @Test
  void learning_anEntryFromAnOlderBallotIsNotCommittedByANewerLeadersCommitIndex() {
    Replica r = follower(new Entry(1, OLD, Cluster.bytes("stale")));
    r.step(new Heartbeat(3, 2, NEW, 1, 1));
    Replica.Ready ready = r.ready();
    r.advance();
    assertEquals(List.of(), ready.committed(), "slot 1 may hold another value in ballot 2");
    CatchupRequest ask = (CatchupRequest) ready.messages().stream()
        .filter(m -> m instanceof CatchupRequest).findFirst().orElseThrow();
    assertEquals(1, ask.fromSlot());
    assertEquals(3, ask.to(), "asks the leader");
    // The leader answers with the decided entry; the follower persists it, then hands it out.
    Entry decided = new Entry(1, NEW, new byte[0]);
    r.step(new CatchupReply(3, 2, 1, List.of(decided)));
    ready = r.ready();
    assertEquals(List.of(decided), ready.entries());
    assertEquals(1, ready.commitIndex());
    assertEquals(List.of(decided), ready.committed());
  }

  @Test
  void learning_anEntryInTheLeadersBallotIsCommittedByItsCommitIndex() {
    Replica r = follower();
    Entry x = new Entry(1, NEW, Cluster.bytes("x"));
    r.step(new Accept(3, 2, NEW, 0, List.of(x)));
    assertEquals(List.of(), r.ready().committed());
    r.advance();
    r.step(new Heartbeat(3, 2, NEW, 1, 1));
    Replica.Ready ready = r.ready();
    assertEquals(List.of(x), ready.committed());
    assertEquals(1, ready.commitIndex(), "the durable commit marker moves with it");
  }

  @Test
  void catchup_aLaggingFollowerLearnsDecidedEntriesInBoundedReplies() {
    Cluster c = new Cluster(3, false, id -> new ReplicaConfig(id, Cluster.members(3), 10, 20, 2, 64, 3, 8));
    c.elect(1);
    c.isolate(3);
    for (int i = 0; i < 10; i++) {
      c.write(1, "v" + i);
    }
    c.heal();
    List<Integer> replySizes = new ArrayList<>();
    for (int round = 0; round < 20 && c.node(3).appliedSlot < c.node(1).appliedSlot; round++) {
      c.tick(1, 2);
      c.deliver(m -> {
        if (m instanceof CatchupReply r) {
          replySizes.add(r.entries().size());
        }
        return true;
      });
    }
    assertEquals(c.applied(1), c.applied(3));
    assertTrue(replySizes.stream().allMatch(n -> n <= 3), "at most catchupEntriesMax per reply: " + replySizes);
  }

  @Test
  void catchup_behindACompactedLogNeedsASnapshot_thenContinuesByEntries() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.isolate(3);
    for (int i = 0; i < 5; i++) {
      c.write(1, "v" + i);
    }
    long snapshot = c.node(1).appliedSlot;
    c.replica(1).compact(snapshot); // the leader snapshotted its state and forgot the entries
    c.node(1).disk.snapshotSlot = snapshot;
    c.heal();
    c.tick(1, 2);
    c.deliverAll();
    assertEquals(snapshot, c.node(3).snapshotNeeded, "the follower must fetch the leader's snapshot");
    c.tick(1, 2);
    c.deliverAll();
    assertEquals(snapshot, c.node(3).snapshotNeeded, "and is reminded until it has");
    // The driver fetches and installs the snapshot (here: the state is the applied prefix).
    Cluster.Node follower = c.node(3);
    follower.applied.clear();
    follower.applied.addAll(c.node(1).applied);
    follower.appliedSlot = snapshot;
    follower.disk.snapshotSlot = snapshot;
    follower.replica.snapshotInstalled(snapshot, null);
    c.process(3);
    assertEquals(-1, follower.snapshotNeeded);
    c.write(1, "after");
    assertEquals(c.applied(1), c.applied(3));
  }

  @Test
  void decidedEntriesAreHandedOutOnceInOrder_andAgainFromTheSnapshotAfterARestart() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a", "b", "c");
    List<String> before = c.applied(2);
    assertEquals(List.of("-", "a", "b", "c"), before);
    List<Long> slots = new ArrayList<>();
    for (Replica.Ready r : c.node(2).readies) {
      for (Entry e : r.committed()) {
        slots.add(e.slot());
      }
    }
    assertEquals(List.of(1L, 2L, 3L, 4L), slots, "each slot once, in order");
    c.crash(2);
    c.restart(2);
    assertEquals(before, c.applied(2), "the restarted driver re-applies from its snapshot (none: slot 1)");
  }

  @Test
  void anyReplicaAnswersCatchupFromItsDecidedPrefixOnly() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    Replica r2 = c.replica(2);
    r2.step(new CatchupRequest(3, 2, 1));
    CatchupReply reply = assertInstanceOf(CatchupReply.class, r2.ready().messages().get(0));
    assertEquals(r2.status().commitIndex(), reply.commitIndex());
    assertEquals(reply.commitIndex(), reply.entries().size());
  }
}
