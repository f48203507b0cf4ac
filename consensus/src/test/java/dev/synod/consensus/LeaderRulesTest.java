package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.PreVoteReply;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proposer's rules: phase 1 once for all open slots; the new leader re-proposes, in its own
 * ballot, the highest-ballot value any promise reported for each slot and a no-op for each gap,
 * before anything new; a slot is decided by a majority of acceptances in the leader's ballot, its
 * own counted only once durable; proposals are pipelined and batched within named limits.
 */
class LeaderRulesTest {
  private static Entry entry(long slot, Ballot b, String v) {
    return new Entry(slot, b, Cluster.bytes(v));
  }

  /** Replaces a node's disk contents (while it is down) and restarts it. */
  private static void recoverWith(Cluster c, int id, long commitIndex, Entry... accepted) {
    c.crash(id);
    Cluster.Disk d = c.node(id).disk;
    for (Entry e : accepted) {
      d.accepted.put(e.slot(), e);
      d.promised = Ballot.max(d.promised, e.ballot());
    }
    d.commitIndex = commitIndex;
    c.restart(id);
  }

  @Test
  void reproposal_aValueAcceptedByAMajorityInAnOldBallotSurvivesALeaderChange() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    assertTrue(c.replica(1).propose(Cluster.bytes("b")));
    c.process(1);
    c.deliver(m -> m instanceof Accept && m.to() == 2); // node 2 accepts b; node 3 never hears of it
    c.crash(1); // before node 1 could tell anyone b is decided
    c.drop(m -> true);
    c.elect(3);
    c.write(3, "c");
    assertEquals(List.of("-", "a", "b", "c"), c.applied(3).subList(0, 4));
    assertEquals(c.applied(3), c.applied(2));
  }

  @Test
  void reproposal_gapsBetweenReportedSlotsAreFilledWithNoops() {
    Cluster c = new Cluster(3);
    Ballot old = new Ballot(1, 1);
    c.crash(1);
    recoverWith(c, 2, 0, entry(1, old, "a"), entry(3, old, "c"));
    c.elect(3);
    assertEquals(List.of("a", "-", "c"), c.applied(3));
    assertEquals(c.applied(3), c.applied(2));
  }

  @ParameterizedTest(name = "highest ballot at node {0}")
  @ValueSource(ints = {2, 3})
  void reproposal_theHighestBallotValueReportedWins(int nodeWithHigherBallot) {
    Cluster c = new Cluster(3);
    c.crash(1);
    int other = nodeWithHigherBallot == 2 ? 3 : 2;
    recoverWith(c, nodeWithHigherBallot, 0, entry(1, new Ballot(2, 1), "newer"));
    recoverWith(c, other, 0, entry(1, new Ballot(1, 1), "older"));
    c.elect(3);
    assertEquals(List.of("newer"), c.applied(3));
  }

  @ParameterizedTest(name = "new leader's second promise from node {0}")
  @ValueSource(ints = {1, 2})
  void quorumIntersection_twoBallotsCannotDecideDifferentValuesForASlot(int promiser) {
    Cluster c = new Cluster(3);
    c.elect(1);
    assertTrue(c.replica(1).propose(Cluster.bytes("x")));
    c.process(1);
    // x is accepted by {1, 2}, a majority, so it is decided in ballot 1, though nobody knows yet.
    c.deliver(m -> m instanceof Accept && m.to() == 2);
    c.drop(m -> true);
    // Node 2 hears no leader for an election timeout (its own pre-vote is lost), so it grants node
    // 3's pre-vote; node 3 campaigns with a higher ballot; its second promise is from 1 or 2.
    c.tick(2, 10);
    c.drop(m -> true);
    c.tick(3, 10);
    c.deliver(m -> m instanceof Message.PreVote && m.to() == 2 || m instanceof Message.PreVoteReply);
    c.drop(m -> m instanceof Prepare && m.to() != promiser);
    c.deliver(m -> !(m instanceof Prepare) || m.to() == promiser);
    assertTrue(c.replica(3).isLeader());
    c.settle(3);
    assertEquals(List.of("-", "x"), c.applied(3), "ballot 2 decides x again, nothing else");
    assertEquals(c.applied(3), c.applied(promiser));
  }

  @Test
  void proposeSucceedsOnlyOnAnActiveLeader() {
    Cluster c = new Cluster(3);
    assertFalse(c.replica(1).propose(Cluster.bytes("early")), "a follower refuses");
    c.tick(1, 10);
    assertEquals("follower", c.replica(1).status().role(), "pre-voting: nothing raised yet");
    assertFalse(c.replica(1).propose(Cluster.bytes("early")), "a pre-voting follower refuses");
    c.deliver(m -> m instanceof Message.PreVote || m instanceof Message.PreVoteReply);
    assertEquals("candidate", c.replica(1).status().role());
    assertFalse(c.replica(1).propose(Cluster.bytes("early")), "a candidate refuses: phase 1 is not done");
    c.deliverAll();
    assertTrue(c.replica(1).isLeader());
    assertTrue(c.replica(1).propose(Cluster.bytes("now")));
  }

  @Test
  void pipelining_atMostInflightSlotsMaxUndecided() {
    Cluster c = new Cluster(3, false, id -> new ReplicaConfig(id, Cluster.members(3), 10, 20, 2, 3, 64, 8));
    c.elect(1);
    assertTrue(c.replica(1).propose(Cluster.bytes("1")));
    assertTrue(c.replica(1).propose(Cluster.bytes("2")));
    assertTrue(c.replica(1).propose(Cluster.bytes("3")));
    assertFalse(c.replica(1).propose(Cluster.bytes("4")), "three undecided slots is the limit");
    c.process(1);
    c.deliverAll();
    assertTrue(c.replica(1).propose(Cluster.bytes("4")), "decided slots free the window");
  }

  @Test
  void batching_anAcceptCarriesAtMostMessageEntriesMax_andAllAreSentBeforeAnyAck() {
    Cluster c = new Cluster(3, false, id -> new ReplicaConfig(id, Cluster.members(3), 10, 20, 2, 64, 64, 2));
    c.elect(1);
    for (int i = 0; i < 5; i++) {
      assertTrue(c.replica(1).propose(Cluster.bytes("v" + i)));
    }
    c.process(1);
    List<Integer> sizes = new ArrayList<>();
    for (Message m : c.inFlight) {
      if (m instanceof Accept a && a.to() == 2) {
        sizes.add(a.entries().size());
      }
    }
    assertEquals(List.of(2, 2, 1), sizes);
  }

  /**
   * A write decided with nothing else in flight is announced at once by a commit notice (a
   * heartbeat of round {@link Message.Heartbeat#COMMIT_NOTICE}), which followers apply by and do
   * not answer: answering every notice cost two messages per write at low load. Regular
   * heartbeats are still answered, so the leader's liveness checks and read rounds are unchanged.
   */
  @Test
  void commitNotice_followersLearnTheDecisionAndDoNotAnswerIt() {
    Cluster c = new Cluster(3);
    c.elect(1);
    assertTrue(c.replica(1).propose(Cluster.bytes("x")));
    c.process(1);
    c.deliver(m -> m instanceof Accept || m instanceof Accepted);
    long decided = c.replica(1).status().commitIndex();
    List<Message.Heartbeat> notices = new ArrayList<>();
    for (Message m : c.inFlight) {
      if (m instanceof Message.Heartbeat h) {
        notices.add(h);
      }
    }
    assertEquals(2, notices.size(), "one notice per follower: " + c.inFlight);
    for (Message.Heartbeat h : notices) {
      assertEquals(Message.Heartbeat.COMMIT_NOTICE, h.round());
      assertEquals(decided, h.leaderCommit());
    }
    c.deliver(m -> m instanceof Message.Heartbeat);
    assertEquals(decided, c.replica(2).status().commitIndex(), "the follower learned the decision");
    assertEquals(decided, c.replica(3).status().commitIndex());
    assertTrue(c.inFlight.stream().noneMatch(m -> m instanceof Message.HeartbeatAck),
        "a commit notice is not answered: " + c.inFlight);
    // A regular heartbeat (a round of its own) is answered as before.
    c.tick(1, c.node(1).config.heartbeatTicks());
    long acks = c.inFlight.stream().filter(m -> m instanceof Message.Heartbeat).count();
    c.deliver(m -> m instanceof Message.Heartbeat);
    assertEquals(acks, c.inFlight.stream().filter(m -> m instanceof Message.HeartbeatAck).count());
  }

  @Test
  void theLeaderCountsItsOwnAcceptanceOnlyAfterItIsPersisted() {
    Cluster c = new Cluster(3);
    c.elect(1);
    Replica leader = c.replica(1);
    long commit = leader.status().commitIndex();
    leader.propose(Cluster.bytes("x"));
    Replica.Ready r = leader.ready(); // holds the entry to persist; not yet persisted
    Accept toNode2 = (Accept) r.messages().stream().filter(m -> m.to() == 2).findFirst().orElseThrow();
    // Node 2's acceptance arrives before our own is durable: one of a majority of two.
    leader.step(new Accepted(2, 1, toNode2.ballot(), toNode2.firstSlot(), toNode2.lastSlot()));
    assertEquals(commit, leader.status().commitIndex(), "not decided: our own vote is not durable yet");
    c.node(1).disk.persist(r);
    leader.advance();
    assertEquals(commit + 1, leader.status().commitIndex(), "decided once our acceptance is durable");
  }

  @Test
  void lostAcceptsAreRetransmitted() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.replica(1).propose(Cluster.bytes("x"));
    c.process(1);
    c.drop(m -> m instanceof Accept);
    c.tick(1, 10);
    c.deliverAll();
    c.tickAll(2);
    c.deliverAll();
    assertEquals(List.of("-", "x"), c.applied(2));
  }

  @Test
  void phaseOne_runsInWindowsWhenAcceptorsHoldMoreThanOnePromiseCarries() {
    Cluster c = new Cluster(3, false, id -> new ReplicaConfig(id, Cluster.members(3), 10, 20, 2, 64, 2, 8));
    Ballot old = new Ballot(1, 1);
    c.crash(1);
    recoverWith(c, 2, 0, entry(1, old, "a"), entry(2, old, "b"), entry(3, old, "c"), entry(4, old, "d"),
        entry(5, old, "e"));
    c.elect(3);
    assertEquals(List.of("a", "b", "c", "d", "e"), c.applied(3));
  }

  @Test
  void aLeaderStepsDownWhenANackReportsAHigherPromise() {
    Cluster c = new Cluster(3);
    c.elect(1);
    // Node 2 runs phase 1 with a higher ballot (it reached node 3 only); node 3 promises it.
    long commit = c.replica(3).status().commitIndex();
    c.replica(3).step(new Prepare(2, 3, new Ballot(9, 2), commit + 1, commit));
    c.process(3);
    c.drop(m -> m.to() == 2);
    c.replica(1).propose(Cluster.bytes("x"));
    c.process(1);
    c.deliver(m -> m instanceof Accept && m.to() == 3); // refused: 3 promised node 2's ballot
    assertTrue(c.replica(1).isLeader());
    c.deliver(m -> m instanceof Message.Nack && m.to() == 1);
    assertFalse(c.replica(1).isLeader());
  }

  /**
   * Phase 1 skips the slots a candidate learns decided while it runs (they need no phase 1), which
   * starts a new window: every promise must be given again for it, the candidate's own included.
   * With one member of three down, the candidate's own promise is half of its majority; if it is
   * not re-counted, the election stalls until the next timeout.
   */
  @Test
  void phaseOne_aCandidateThatLearnsACommitMidwayCountsItsOwnPromiseForTheNewWindow() {
    Ballot old = new Ballot(3, 3);
    Replica r = new Replica(Cluster.config(1, 3), new DurableState(old, new TreeMap<>(), 0, 0, false),
        Cluster.ZERO);
    drain(r);
    for (int i = 0; i < 10; i++) {
      r.tick(); // the election timer expires: pre-vote
    }
    drain(r);
    r.step(new PreVoteReply(2, 1, new Ballot(4, 1), true, old, 0)); // granted: phase 1 from slot 1
    drain(r);
    assertEquals("candidate", r.status().role());
    Ballot mine = r.status().ballot();
    // A late answer to a catch-up it asked node 3 for before node 3 went down: slot 1 is decided.
    r.step(new CatchupReply(3, 1, 1, List.of(entry(1, old, "a"))));
    drain(r);
    assertEquals(1, r.status().commitIndex());
    r.tick();
    r.tick(); // the Prepare resend: phase 1 now starts at slot 2
    List<Message> sent = drain(r);
    Prepare toTwo = (Prepare) sent.stream().filter(m -> m instanceof Prepare && m.to() == 2)
        .findFirst().orElseThrow(() -> new AssertionError("no Prepare resent to node 2: " + sent));
    assertEquals(2, toTwo.fromSlot());
    r.step(new Promise(2, 1, mine, toTwo.fromSlot(), Promise.COVERS_ALL, List.of()));
    drain(r);
    assertTrue(r.isLeader(), "node 2's promise and its own make a majority: " + r.status());
  }

  /** Runs the driver loop with nothing lost; returns every message sent. */
  private static List<Message> drain(Replica r) {
    List<Message> sent = new ArrayList<>();
    while (r.hasReady()) {
      sent.addAll(r.ready().messages());
      r.advance();
    }
    return sent;
  }
}
