package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Probe;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * "A node whose durable state is missing must not vote until it has caught up": a wiped replica
 * may have promised or accepted things it no longer remembers. It neither promises, accepts nor
 * campaigns until it has seen a Paxos instance started after it restarted decided without it; a
 * brand-new cluster, where nobody has a past, bootstraps instead.
 */
class FreshNodeRulesTest {
  private static boolean sends(Cluster c, int id, Class<? extends Message> type) {
    for (Replica.Ready r : c.node(id).readies) {
      for (Message m : r.messages()) {
        if (type.isInstance(m)) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void aFreshReplicaNeitherPromisesNorAcceptsNorCampaigns() {
    Replica r = new Replica(Cluster.config(3, 3), DurableState.empty(), Cluster.ZERO);
    assertTrue(r.isFresh());
    assertEquals("recovering", r.status().role());
    r.step(new Prepare(1, 3, new Ballot(5, 1), 1, 0));
    r.step(new Accept(1, 3, new Ballot(5, 1), 0, List.of(new Entry(1, new Ballot(5, 1), new byte[] {1}))));
    for (int i = 0; i < 100; i++) {
      r.tick();
    }
    Replica.Ready ready = r.ready();
    assertEquals(List.of(), ready.entries(), "accepted nothing");
    assertEquals(null, ready.promised(), "promised nothing");
    assertTrue(ready.messages().stream().allMatch(m -> m instanceof Probe),
        "only probes; no Promise, Accepted or Prepare: " + ready.messages());
  }

  /** A fresh replica 3 of {1,2,3}, and the nonce of its probe. */
  private static long probe(Replica r) {
    for (int i = 0; i < 10; i++) {
      r.tick();
    }
    Replica.Ready ready = r.ready();
    r.advance();
    return ready.messages().stream().filter(m -> m instanceof Probe).map(m -> ((Probe) m).nonce())
        .findFirst().orElseThrow();
  }

  private static final Ballot LEADER = new Ballot(4, 1);
  private static final Ballot EARLIER = new Ballot(2, 2);

  private static List<Entry> decided(long from, long to, Ballot b) {
    List<Entry> entries = new java.util.ArrayList<>();
    for (long s = from; s <= to; s++) {
      entries.add(new Entry(s, b, new byte[] {(byte) s}));
    }
    return entries;
  }

  @Test
  void join_waitsForTheSlotTheLeaderNamed_decidedInTheLeadersBallot() {
    Replica r = new Replica(Cluster.config(3, 3), DurableState.empty(), Cluster.ZERO);
    long nonce = probe(r);
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 5));
    r.step(new Message.CatchupReply(1, 3, 3, decided(1, 3, EARLIER)));
    assertTrue(r.isFresh(), "slot 5 is not decided yet: an instance started before the wipe may be open");
    r.step(new Message.CatchupReply(1, 3, 5, decided(4, 5, EARLIER)));
    assertTrue(r.isFresh(), "slot 5 was decided in another ballot, not in an instance the leader started after our probe");
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 6));
    r.step(new Message.CatchupReply(1, 3, 6, decided(6, 6, LEADER)));
    assertFalse(r.isFresh());
    r.ready();
    r.advance();
  }

  @Test
  void join_needsAnswersFromAMajority_andOnlyAnswersToThisIncarnationsProbeCount() {
    Replica r = new Replica(Cluster.config(3, 5), DurableState.empty(), Cluster.ZERO);
    long nonce = probe(r);
    r.step(new Message.ProbeReply(1, 3, nonce + 1, Ballot.ZERO, false, true, 0)); // an earlier incarnation's
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 1));
    r.step(new Message.CatchupReply(1, 3, 1, decided(1, 1, LEADER)));
    assertTrue(r.isFresh(), "two of five have answered");
    r.step(new Message.ProbeReply(2, 3, nonce, LEADER, false, true, 0));
    assertFalse(r.isFresh(), "three of five have answered");
  }

  @Test
  void join_waitsForALeaderAtLeastAsHighAsEveryPromiseItHeardOf() {
    Replica r = new Replica(Cluster.config(3, 3), DurableState.empty(), Cluster.ZERO);
    long nonce = probe(r);
    Ballot higher = new Ballot(9, 2);
    r.step(new Message.ProbeReply(2, 3, nonce, higher, false, true, 0)); // node 2 promised a newer candidate
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 1));
    r.step(new Message.CatchupReply(1, 3, 1, decided(1, 1, LEADER)));
    assertTrue(r.isFresh(), "the leader may already be deposed: wait for the newer one");
    r.step(new Message.ProbeReply(2, 3, nonce, higher, false, true, 2)); // node 2 now leads in the newer ballot
    r.step(new Message.CatchupReply(2, 3, 2, decided(2, 2, higher)));
    assertFalse(r.isFresh());
    assertEquals(higher, r.ready().promised(), "promises at least the highest ballot a majority reported");
  }

  @Test
  void bootstrap_aBrandNewClusterOfFreshReplicasElectsALeader() {
    Cluster c = new Cluster(3, true, id -> Cluster.config(id, 3));
    for (int i = 0; i < 30 && c.nodes.values().stream().noneMatch(n -> n.replica.isLeader()); i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    assertTrue(c.nodes.values().stream().anyMatch(n -> n.replica.isLeader()));
    for (Cluster.Node n : c.nodes.values()) {
      assertFalse(n.replica.isFresh());
      assertFalse(n.disk.fresh, "a non-null promise was persisted, so the next recovery is not fresh");
    }
  }

  /**
   * A brand-new cluster whose members start a little apart: nodes 1 and 2 probe first, node 3 (up,
   * answering) probes later. Nodes 1 and 2 keep answering "fresh with no history" until node 3 has
   * stopped probing (it has its answers), so all three become voters. (Bootstrapping at once, 1 and
   * 2 answered node 3 as voters: it had to join through a leader, and if that leader was lost first
   * the survivors were one vote short for good: the server's "no leader elected".)
   */
  @Test
  void bootstrap_replicasStartedTogetherAllBootstrap_evenTheLastToProbe_soALeaderCrashIsSurvived() {
    Cluster c = new Cluster(3, true, id -> Cluster.config(id, 3));
    for (int i = 0; i < 3; i++) {
      c.tick(1, 1);
      c.tick(2, 1);
      c.deliverAll();
    }
    assertTrue(c.replica(1).isFresh() && c.replica(2).isFresh(), "evidence, but node 3 has not probed yet");
    int leader = -1;
    for (int i = 0; i < 60 && leader < 0; i++) {
      c.tickAll(1);
      c.deliverAll();
      for (Cluster.Node n : c.nodes.values()) {
        leader = n.replica.isLeader() ? n.id : leader;
      }
    }
    assertTrue(leader > 0, "a leader was elected");
    for (Cluster.Node n : c.nodes.values()) {
      assertFalse(n.replica.isFresh(), "node " + n.id + " bootstrapped too");
    }
    c.crash(leader); // the moment it was elected
    int next = -1;
    for (int i = 0; i < 60 && next < 0; i++) {
      c.tickAll(1);
      c.deliverAll();
      for (Cluster.Node n : c.nodes.values()) {
        next = n.up() && n.replica.isLeader() ? n.id : next;
      }
    }
    assertTrue(next > 0 && next != leader, "the two survivors elect one of them");
  }

  /** A member that never starts holds the others back only so long: a majority bootstraps without it. */
  @Test
  void bootstrap_aMemberThatIsDownDelaysTheBirthOfTheClusterAtMostTenElectionTimeouts() {
    Cluster c = new Cluster(3, true, id -> Cluster.config(id, 3));
    c.crash(3);
    int ticks = 0;
    while (c.replica(1).isFresh() || c.replica(2).isFresh()) {
      c.tick(1, 1);
      c.tick(2, 1);
      c.deliverAll();
      assertTrue(++ticks <= 10 * 20 + 1, "still fresh after " + ticks + " ticks");
    }
    assertTrue(ticks > 10 * 20 - 2, "they waited for node 3 to answer: " + ticks);
    c.elect(1);
    c.write(1, "a");
    assertEquals(List.of("-", "a"), c.applied(2));
  }

  @Test
  void join_keepsTheEarliestSlotTheLeaderNamed_theFinishLineDoesNotMove() {
    Replica r = new Replica(Cluster.config(3, 3), DurableState.empty(), Cluster.ZERO);
    long nonce = probe(r);
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 5));
    // A later probe: the idle leader named (and proposed) a later slot; slot 5 still serves.
    r.step(new Message.ProbeReply(1, 3, nonce, LEADER, false, true, 6));
    r.step(new Message.CatchupReply(1, 3, 5, decided(1, 5, LEADER)));
    assertFalse(r.isFresh(), "slot 5 was assigned by the leader after our probe and is decided in its ballot");
    assertEquals(LEADER, r.ready().promised());
  }

  @Test
  void aWipedReplicaDoesNotVoteUntilItHasCaughtUp_thenJoins() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a", "b");
    c.crash(3);
    c.wipe(3);
    assertTrue(c.replica(3).isFresh());
    // It is asked to vote before it has caught up: it does not.
    c.replica(3).step(new Prepare(2, 3, new Ballot(9, 2), 4, 3));
    c.process(3);
    assertFalse(sends(c, 3, Message.Promise.class));
    c.drop(m -> true);
    // It probes; the leader names a slot after now (proposing a no-op, being idle); once that
    // slot is decided in the leader's ballot and caught up, the replica votes again.
    for (int i = 0; i < 20 && c.replica(3).isFresh(); i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    assertFalse(c.replica(3).isFresh());
    assertEquals("follower", c.replica(3).status().role());
    assertEquals(c.replica(1).status().ballot(), c.replica(3).status().ballot(),
        "it promises at least the leader's ballot");
    assertNotNull(c.node(3).readies.stream().filter(r -> r.promised() != null).findFirst().orElse(null));
    c.write(1, "c");
    assertEquals(c.applied(1), c.applied(3));
  }

  @Test
  void aWipedReplicaCannotHelpTheOnlyOtherSurvivorDecide() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    c.crash(1); // the leader is down; 2 and a wiped 3 remain
    c.wipe(3);
    for (int i = 0; i < 100; i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    assertFalse(c.replica(2).isLeader(), "node 2 cannot win without node 3's vote");
    assertTrue(c.replica(3).isFresh(), "node 3 cannot bootstrap: node 2 is not fresh");
    c.restart(1);
    for (int i = 0; i < 100 && c.replica(3).isFresh(); i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    assertFalse(c.replica(3).isFresh());
    assertEquals(List.of("-", "a"), c.applied(3).subList(0, 2), "a survived the wipe");
  }

  /** Ticks every live node {@code ticks} times, delivering everything after each tick. */
  private static void run(Cluster c, int ticks) {
    for (int i = 0; i < ticks; i++) {
      c.tickAll(1);
      c.deliverAll();
    }
  }

  private static boolean anyLeader(Cluster c) {
    return c.nodes.values().stream().anyMatch(n -> n.up() && n.replica.isLeader());
  }

  /**
   * Members 1 and 2 of three form the cluster and acknowledge writes (3 was created with them but
   * never started); 1's disk is wiped and 2 is down; then 3 starts and 1 restarts empty. 1 and 3
   * are a majority with nothing on disk, as in a brand-new cluster. They must not found a second
   * history at slot 1 over the acknowledged one: 1 (an empty directory of an existing cluster) only
   * joins through a leader, so 3 has no majority of founders. Nothing is decided until 2 returns;
   * 2 alone cannot lead either (1 and 3 do not vote): the operator's recovery, not a silent loss.
   */
  @Test
  void bootstrap_aMajorityWithEmptyDisksDoesNotFoundASecondHistory() {
    Cluster c = new Cluster(3, true, id -> Cluster.config(id, 3));
    c.crash(3); // created with the others, never started
    for (int i = 0; i < 10 * 20 + 10 && (c.replica(1).isFresh() || c.replica(2).isFresh()); i++) {
      c.tick(1, 1);
      c.tick(2, 1);
      c.deliverAll();
    }
    c.elect(1);
    c.write(1, "a", "b");
    List<String> acknowledged = c.applied(2);
    assertEquals(List.of("-", "a", "b"), acknowledged);
    c.wipe(1); // restarted on an empty disk of the existing cluster
    c.crash(2);
    c.restart(3); // its first start: an empty disk created for the new cluster (a founder)
    assertTrue(c.replica(3).isFresh());
    run(c, 30 * 20);
    assertFalse(anyLeader(c), "no leader among 1 and 3");
    assertTrue(c.replica(1).isFresh() && c.replica(3).isFresh(), "neither votes");
    assertEquals(List.of(), c.applied(1));
    assertEquals(List.of(), c.applied(3), "nothing decided: no second history");
    c.restart(2);
    run(c, 30 * 20);
    assertEquals(acknowledged, c.applied(2), "the acknowledged history is intact");
    assertFalse(anyLeader(c), "2 cannot lead alone, and 1 and 3 are not admitted without a leader");
    for (int id = 1; id <= 3; id += 2) {
      assertTrue(c.node(id).applied.isEmpty() || c.applied(id).equals(acknowledged.subList(0,
          c.applied(id).size())), "node " + id + " learned only the acknowledged history");
    }
  }

  /**
   * A founding member hears a member that has a history: the cluster exists, so it joins instead of
   * bootstrapping, however many founders answer. (A wiped member restarted as a founder by mistake,
   * and one created with the cluster that starts late, while a member with the history is up.)
   */
  @Test
  void bootstrap_aFounderThatHearsOfAHistoryJoinsInstead() {
    Cluster c = new Cluster(3, true, id -> Cluster.config(id, 3));
    c.crash(3);
    for (int i = 0; i < 10 * 20 + 10 && (c.replica(1).isFresh() || c.replica(2).isFresh()); i++) {
      c.tick(1, 1);
      c.tick(2, 1);
      c.deliverAll();
    }
    c.elect(1);
    c.write(1, "a");
    c.crash(1);
    c.nodes.put(1, new Cluster.Node(1, c.node(1).config, new Cluster.Disk(true, true))); // wiped, restarted as a founder
    c.process(1);
    c.restart(3);
    run(c, 30 * 20);
    assertTrue(c.replica(1).isFresh() && c.replica(3).isFresh(), "node 2 has a history: no founding");
    assertFalse(anyLeader(c));
    assertEquals(List.of("-", "a"), c.applied(2));
  }

  /** Members that were all started as members of an existing cluster never found one. */
  @Test
  void bootstrap_onlyFoundersBootstrap_emptyDisksOfAnExistingClusterWaitForALeader() {
    Cluster c = new Cluster(3, false, id -> Cluster.config(id, 3));
    for (int id = 1; id <= 3; id++) {
      c.crash(id);
      c.nodes.put(id, new Cluster.Node(id, c.node(id).config, new Cluster.Disk(true, false)));
      c.process(id);
    }
    run(c, 30 * 20);
    assertFalse(anyLeader(c));
    for (int id = 1; id <= 3; id++) {
      assertTrue(c.replica(id).isFresh());
      assertEquals("recovering", c.replica(id).status().role());
    }
  }

  @Test
  void aSingleMemberBootstrapsOnlyIfFounding() {
    Replica founder = new Replica(ReplicaConfig.of(1, List.of(1)), DurableState.founding(), Cluster.ZERO);
    Replica joiner = new Replica(ReplicaConfig.of(1, List.of(1)), DurableState.empty(), Cluster.ZERO);
    for (Replica r : List.of(founder, joiner)) {
      for (int i = 0; i < 100; i++) {
        r.tick();
        while (r.hasReady()) {
          r.ready();
          r.advance();
        }
      }
    }
    assertTrue(founder.isLeader());
    assertFalse(joiner.isLeader(), "no one can admit it: the server refuses to start it so");
    assertTrue(joiner.isFresh());
  }
}
