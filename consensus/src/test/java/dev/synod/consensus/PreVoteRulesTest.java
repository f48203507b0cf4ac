package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.Nack;
import dev.synod.consensus.Message.PreVote;
import dev.synod.consensus.Message.PreVoteReply;
import dev.synod.consensus.Message.Prepare;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Pre-vote (Raft thesis section 9.6, etcd's PreVote): a replica whose election timer expires first
 * asks every member whether it would promise the ballot phase 1 would use, given its commit index;
 * nothing durable changes until a majority (itself included) says yes. A member says yes iff it
 * votes, the candidate's commit index is at least its own, and it has not heard from a live leader
 * for electionTicksMin (leader stickiness). So a replica that is behind never raises the ballot
 * over one that is up to date, and one that rejoins or flaps cannot depose a healthy leader.
 */
class PreVoteRulesTest {
  private static final Ballot B3 = new Ballot(3, 3);
  private static final Ballot B5 = new Ballot(5, 2);

  /** Replica 1 of {1,2,3} (election after 10 ticks), recovered with this promise and commit index. */
  private static Replica replica(Ballot promised, long commitIndex) {
    TreeMap<Long, Entry> log = new TreeMap<>();
    for (long s = 1; s <= commitIndex; s++) {
      log.put(s, new Entry(s, promised, Cluster.bytes("v" + s)));
    }
    Replica r = new Replica(Cluster.config(1, 3), new DurableState(promised, log, commitIndex, 0, false),
        Cluster.ZERO);
    drain(r);
    return r;
  }

  private static void drain(Replica r) {
    while (r.hasReady()) {
      r.ready();
      r.advance();
    }
  }

  /** Everything the replica produced (persisted promises and messages), over as many Readies as it takes. */
  private static List<Replica.Ready> readies(Replica r) {
    List<Replica.Ready> all = new ArrayList<>();
    while (r.hasReady()) {
      all.add(r.ready());
      r.advance();
    }
    return all;
  }

  private static List<Message> messages(List<Replica.Ready> readies) {
    List<Message> all = new ArrayList<>();
    readies.forEach(r -> all.addAll(r.messages()));
    return all;
  }

  private static boolean persistedAPromise(List<Replica.Ready> readies) {
    return readies.stream().anyMatch(r -> r.promised() != null);
  }

  private static PreVoteReply answer(Replica r, PreVote p) {
    r.step(p);
    List<Replica.Ready> out = readies(r);
    assertFalse(persistedAPromise(out), "answering a pre-vote changes nothing durable");
    return assertInstanceOf(PreVoteReply.class, messages(out).get(0));
  }

  @Test
  void anExpiredTimerStartsAPreVote_nothingIsRaisedOrPersisted() {
    Replica r = replica(B5, 2);
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    List<Replica.Ready> out = readies(r);
    assertFalse(persistedAPromise(out), "no self-promise before a majority granted the pre-vote");
    List<Message> sent = messages(out);
    assertEquals(List.of(new PreVote(1, 2, new Ballot(6, 1), 2), new PreVote(1, 3, new Ballot(6, 1), 2)),
        sent, "asks everyone about the ballot phase 1 would use, with its commit index");
    assertEquals(B5, r.status().ballot());
    assertEquals("follower", r.status().role());
  }

  @Test
  void aPreVoteIsGrantedOnlyToACandidateAtLeastAsUpToDate() {
    Replica r = replica(B5, 2);
    PreVoteReply behind = answer(r, new PreVote(2, 1, new Ballot(9, 2), 1));
    assertFalse(behind.granted(), "rule P1b would refuse its Prepare: the pre-vote says so first");
    assertEquals(2, behind.commitIndex(), "and says how far we are, so it can catch up");
    assertTrue(answer(r, new PreVote(2, 1, new Ballot(9, 2), 2)).granted());
    assertTrue(answer(r, new PreVote(3, 1, new Ballot(4, 3), 5)).granted(),
        "a ballot below our promise is no reason to refuse: phase 1 will start above it");
    assertEquals(B5, answer(r, new PreVote(3, 1, new Ballot(4, 3), 5)).promised(),
        "the reply carries our promise so the candidate starts above it");
    assertEquals(B5, r.status().ballot(), "our promise is unchanged");
  }

  @Test
  void leaderStickiness_noGrantWithinElectionTicksMinOfHearingALiveLeader() {
    Replica r = replica(B3, 2);
    r.step(new Heartbeat(3, 1, B3, 2, 1));
    drain(r);
    PreVote ahead = new PreVote(2, 1, new Ballot(4, 2), 7);
    assertFalse(answer(r, ahead).granted(), "we just heard the leader: the candidate must not depose it");
    for (int i = 0; i < 9; i++) {
      r.tick();
    }
    drain(r);
    assertFalse(answer(r, ahead).granted(), "9 ticks: still within electionTicksMin");
    r.tick();
    drain(r);
    assertTrue(answer(r, ahead).granted(), "10 ticks without the leader: it may be gone");
  }

  @Test
  void aLeaderNeverGrants() {
    Cluster c = new Cluster(3);
    c.elect(1);
    for (int i = 0; i < 30; i++) { // long past electionTicksMin; the leader still leads
      c.tick(1, 1);
      c.deliverAll();
    }
    long commit = c.replica(1).status().commitIndex();
    assertFalse(answer(c.replica(1), new PreVote(2, 1, new Ballot(99, 2), commit + 5)).granted());
    assertTrue(c.replica(1).isLeader());
  }

  @Test
  void aFreshReplicaNeitherPreVotesNorGrants() {
    Replica r = new Replica(Cluster.config(1, 3), DurableState.empty(), Cluster.ZERO);
    for (int i = 0; i < 100; i++) {
      r.tick();
    }
    assertTrue(messages(readies(r)).stream().allMatch(m -> m instanceof Message.Probe),
        "a fresh replica never asks for votes");
    assertFalse(answer(r, new PreVote(2, 1, new Ballot(9, 2), 100)).granted(),
        "nor grants one: it would not promise in phase 1 either");
  }

  @Test
  void aMajorityOfGrantsStartsPhaseOneAboveEveryPromiseItHeardOf() {
    Replica r = replica(B3, 0);
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    drain(r);
    r.step(new PreVoteReply(3, 1, new Ballot(4, 1), false, new Ballot(7, 3), 0)); // node 3 refuses
    assertFalse(persistedAPromise(readies(r)), "one refusal and our own grant: no majority yet");
    r.step(new PreVoteReply(2, 1, new Ballot(4, 1), true, new Ballot(6, 2), 0));
    List<Replica.Ready> out = readies(r);
    Ballot phase1 = new Ballot(8, 1);
    assertEquals(phase1, out.get(0).promised(), "now the ballot rises, above every promise heard of");
    assertEquals(List.of(new Prepare(1, 2, phase1, 1, 0), new Prepare(1, 3, phase1, 1, 0)),
        messages(out).stream().filter(m -> m instanceof Prepare).toList());
    assertEquals("candidate", r.status().role());
  }

  @Test
  void aReplicaRefusedForBeingBehindStaysAFollowerAndCatchesUpFromTheOneAhead() {
    Replica r = replica(B3, 1);
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    drain(r);
    r.step(new PreVoteReply(2, 1, new Ballot(4, 1), false, B3, 3));
    r.step(new PreVoteReply(3, 1, new Ballot(4, 1), false, B3, 3));
    List<Replica.Ready> out = readies(r);
    assertFalse(persistedAPromise(out), "its ballot never rises over the up-to-date ones");
    assertTrue(messages(out).contains(new CatchupRequest(1, 2, 2)), "asks for slots 2.. : " + messages(out));
    assertFalse(messages(out).stream().anyMatch(m -> m instanceof Prepare));
    assertEquals("follower", r.status().role());
    assertEquals(B3, r.status().ballot());
  }

  @Test
  void aCandidateNackedByAReplicaAheadOnCommitsStepsDownAndCatchesUp() {
    Replica r = replica(B3, 1);
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    drain(r);
    r.step(new PreVoteReply(3, 1, new Ballot(4, 1), true, B3, 1)); // granted: phase 1 starts
    drain(r);
    assertEquals("candidate", r.status().role());
    Ballot mine = r.status().ballot();
    r.step(new Nack(2, 1, mine, B3, 5)); // node 2 learned more commits meanwhile: rule P1b refuses us
    List<Replica.Ready> out = readies(r);
    assertEquals("follower", r.status().role(), "it cannot lead node 2: stop raising the bar");
    assertTrue(messages(out).contains(new CatchupRequest(1, 2, 2)), messages(out).toString());
  }

  /**
   * The shape of the server's failure report: the leader crashes when one survivor has learned a
   * newer commit index than the other. The one behind cannot start phase 1 (node 1 refuses its
   * pre-vote), so it never persists a higher promise; the one ahead is elected at its first timeout.
   */
  @Test
  void twoSurvivorsWithDifferentCommitIndexesElectTheUpToDateOnePromptly() {
    Cluster c = new Cluster(3);
    c.elect(3);
    c.write(3, "a");
    assertTrue(c.replica(3).propose(Cluster.bytes("b")));
    c.process(3);
    c.deliver(m -> m instanceof Accept || m instanceof Accepted); // b is decided at node 3
    c.tick(3, 2);
    c.deliver(m -> m instanceof Heartbeat && m.to() == 1); // only node 1 learns it
    c.drop(m -> true);
    c.crash(3);
    long ahead = c.replica(1).status().commitIndex();
    assertTrue(ahead > c.replica(2).status().commitIndex(), "the survivors' commit indexes differ");
    int ticks = 0;
    while (!c.replica(1).isLeader() && !c.replica(2).isLeader()) {
      c.tick(2, 1); // node 2 heard the leader last, before node 1: it times out first
      c.tick(1, 1);
      c.deliverAll();
      assertTrue(++ticks <= 2 * 20, "no leader after two election timeouts");
    }
    assertTrue(c.replica(1).isLeader(), "the up-to-date survivor leads");
    for (Replica.Ready r : c.node(2).readies) {
      assertTrue(r.promised() == null || r.promised().node() != 2,
          "the one behind never promised a ballot of its own: " + r.promised());
    }
    c.write(1, "c");
    assertEquals(c.applied(1), c.applied(2));
    List<String> applied = c.applied(2);
    assertEquals(List.of("a", "b"), applied.subList(1, 3), "b, decided before the crash, survived");
    assertEquals("c", applied.get(applied.size() - 1));
  }

  /**
   * Leader stickiness: a replica cut off from a healthy leader times out again and again, but its
   * pre-votes change nothing, so when it comes back it neither deposes the leader (as a raised
   * promise would, by refusing the leader's heartbeats) nor forces a new election.
   */
  @Test
  void aReplicaThatWasCutOffCannotDeposeAHealthyLeaderWhenItReturns() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    Ballot leaderBallot = c.replica(1).status().ballot();
    c.isolate(3);
    for (int i = 0; i < 100; i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    assertEquals(leaderBallot, c.replica(3).status().ballot(), "100 ticks alone raised nothing");
    c.heal();
    for (int i = 0; i < 100; i++) {
      c.tickAll(1);
      c.deliverAll();
      assertTrue(c.replica(1).isLeader(), "the leader was never disturbed");
    }
    assertEquals(leaderBallot, c.replica(1).status().ballot());
    assertEquals(1, c.replica(3).leaderId(), "the returning replica follows it");
    c.write(1, "b");
    assertEquals(c.applied(1), c.applied(3));
  }

  /** With a flapping link the rejoining replica may time out just as it hears the leader: still refused. */
  @Test
  void aFlappingReplicasPreVoteIsRefusedByAFollowerThatHearsTheLeader() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.isolate(3);
    c.tick(3, 10); // node 3 times out and pre-votes (lost); then the link is back
    c.heal();
    c.tick(3, 20); // it pre-votes again, node 2 hears the leader
    c.deliver(m -> m instanceof PreVote && m.to() == 2 || m instanceof PreVoteReply);
    assertEquals("follower", c.replica(3).status().role(), "no majority granted: no phase 1");
    assertTrue(c.replica(1).isLeader());
  }

  @Test
  void aClusterOfOneNeedsNoPreVote() {
    Replica r = new Replica(ReplicaConfig.of(7, List.of(7)), new DurableState(new Ballot(4, 7),
        new TreeMap<>(), 0, 0, false), Cluster.ZERO);
    List<Replica.Ready> out = readies(r);
    assertTrue(r.isLeader(), "its own grant is a majority");
    assertEquals(new Ballot(5, 7), out.get(0).promised());
    assertTrue(messages(out).isEmpty());
  }
}
