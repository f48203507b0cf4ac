package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Membership.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Membership changes through the log: a learner joins and is promoted, a voter is removed, the
 * rules refuse unsafe steps, leadership is handed over, and a candidate that has not learned a
 * change must still gather a majority of the new voters before it may lead.
 */
class MembershipRulesTest {
  private static Cluster threeWithLeader1() {
    Cluster c = new Cluster(3);
    c.elect(1);
    return c;
  }

  /** Adds node {@code id} with an empty disk of the existing cluster (configured with voters 1..3). */
  private static void startJoiner(Cluster c, int id) {
    c.nodes.put(id, new Cluster.Node(id, Cluster.config(id, 3), new Cluster.Disk(true, false)));
    c.process(id);
  }

  private static void run(Cluster c, int rounds) {
    for (int i = 0; i < rounds; i++) {
      c.tickAll(1);
      c.deliverAll();
    }
  }

  @Test
  void aLearnerCatchesUpIsPromotedAndThenCountsInTheQuorum() {
    Cluster c = threeWithLeader1();
    c.write(1, "a", "b");
    startJoiner(c, 4);
    Membership m = c.replica(1).membership();
    assertEquals(Replica.ChangeResult.PROPOSED, c.replica(1).proposeMembership(m.with(4, Role.LEARNER, "h4:1")));
    c.process(1);
    run(c, 40);
    assertEquals(Role.LEARNER, c.replica(4).membership().roleOf(4));
    assertFalse(c.replica(4).isFresh(), "the learner joined through the leader: " + c.replica(4).status());
    assertEquals(List.of("a", "b"), c.applied(4).stream().filter(v -> !v.equals("-")).toList().subList(0, 2));
    assertEquals("h4:1", c.replica(2).membership().addressOf(4));

    assertEquals(Replica.ChangeResult.PROPOSED,
        c.replica(1).proposeMembership(c.replica(1).membership().with(4, Role.VOTER, "h4:1")));
    c.process(1);
    run(c, 10);
    for (int id = 1; id <= 4; id++) {
      assertEquals(List.of(1, 2, 3, 4), c.replica(id).membership().voters(), "node " + id);
    }
    // Four voters: a majority is three. With 3 and 4 cut off, nothing is decided.
    long commit = c.replica(1).status().commitIndex();
    c.isolate(3);
    c.isolate(4);
    assertTrue(c.replica(1).propose(Cluster.bytes("c")));
    c.process(1);
    run(c, 5);
    assertEquals(commit, c.replica(1).status().commitIndex());
    c.heal();
    run(c, 10);
    assertTrue(c.applied(4).contains("c"));
  }

  @Test
  void aRemovedVoterStopsCountingAndCannotDisruptTheLeader() {
    Cluster c = threeWithLeader1();
    assertEquals(Replica.ChangeResult.PROPOSED, c.replica(1).proposeMembership(c.replica(1).membership().without(3)));
    c.process(1);
    c.settle(1);
    assertEquals(List.of(1, 2), c.replica(1).membership().voters(), c.replica(1).status() + " " + c.node(1).readies);
    assertEquals(List.of(1, 2), c.replica(3).membership().voters());
    // Node 3 campaigns on and on: it is not a voter any more, so it never even pre-votes.
    Ballot before = c.replica(2).status().ballot();
    for (int i = 0; i < 100; i++) {
      c.tick(3, 1);
      c.deliverAll();
    }
    assertEquals(before, c.replica(2).status().ballot());
    assertTrue(c.replica(1).isLeader());
    // And 1 and 2 decide alone.
    c.isolate(3);
    c.write(1, "x");
    assertTrue(c.applied(2).contains("x"));
  }

  @Test
  void unsafeStepsAreRefusedAndOneChangeRunsAtATime() {
    Cluster c = threeWithLeader1();
    Replica leader = c.replica(1);
    Membership m = leader.membership();
    assertEquals(Replica.ChangeResult.REFUSED, leader.proposeMembership(m.without(2).without(3)));
    assertTrue(leader.lastRefusal().contains("one at a time"), leader.lastRefusal());
    assertEquals(Replica.ChangeResult.REFUSED, leader.proposeMembership(m.with(4, Role.VOTER, "")));
    assertTrue(leader.lastRefusal().contains("learner"), leader.lastRefusal());
    assertEquals(Replica.ChangeResult.REFUSED, leader.proposeMembership(m.without(1)));
    assertTrue(leader.lastRefusal().contains("transfer leadership"), leader.lastRefusal());
    assertEquals(Replica.ChangeResult.NOT_LEADER, c.replica(2).proposeMembership(m.without(3)));

    assertEquals(Replica.ChangeResult.PROPOSED, leader.proposeMembership(m.with(5, Role.OBSERVER, "")));
    assertEquals(Replica.ChangeResult.BUSY, leader.proposeMembership(m.with(6, Role.LEARNER, "")));
    assertFalse(leader.propose(Cluster.bytes("held")), "nothing is proposed after an undecided membership");
    c.process(1);
    c.settle(1);
    assertEquals(Role.OBSERVER, leader.membership().roleOf(5));
    assertTrue(leader.propose(Cluster.bytes("next")));

    // A voter that is cut off: removing another would leave {1, 3} with 3 unreachable.
    c.isolate(3);
    run(c, 30);
    assertTrue(c.replica(1).isLeader());
    assertEquals(Replica.ChangeResult.REFUSED, c.replica(1).proposeMembership(c.replica(1).membership().without(2)));
    assertTrue(c.replica(1).lastRefusal().contains("must be up"), c.replica(1).lastRefusal());
    // But a learner may join while 3 is down (no quorum changes), and 3 itself may be removed (a
    // dead voter replaced): {1, 2} are both up.
    assertEquals(Replica.ChangeResult.PROPOSED,
        c.replica(1).proposeMembership(c.replica(1).membership().with(6, Role.LEARNER, "")));
    c.process(1);
    run(c, 10);
    assertEquals(Replica.ChangeResult.PROPOSED, c.replica(1).proposeMembership(c.replica(1).membership().without(3)));

    assertThrows(IllegalArgumentException.class, () -> c.replica(1).propose(m.encode()));
  }

  @Test
  void leadershipIsHandedToTheChosenVoter() {
    Cluster c = threeWithLeader1();
    c.write(1, "a");
    assertFalse(c.replica(1).transferLeadership(1));
    assertTrue(c.replica(1).transferLeadership(3));
    assertFalse(c.replica(1).propose(Cluster.bytes("held")), "a leader handing over proposes nothing");
    for (int i = 0; i < 10 && !c.replica(3).isLeader(); i++) {
      c.tick(1, 1);
      c.deliverAll();
    }
    assertTrue(c.replica(3).isLeader(), c.replica(3).status().toString());
    c.settle(3);
    assertFalse(c.replica(1).isLeader());
    c.write(3, "b");
    assertTrue(c.applied(1).contains("b") && c.applied(2).contains("b"));
  }

  /**
   * Node 1 leads {1,2,3} and removes 3; only 2 accepts the change before 1 crashes, and nobody
   * learns it decided. Node 3, which never heard of it, pre-votes and prepares with 2: 2's promise
   * reports the membership {1,2}, so the slots after it need a majority of {1,2} too, and 1 is
   * down. 3 must not lead (it would have needed 1 to decide anything after the change). Once 1 is
   * back, 1 or 2 leads and 3 is out.
   */
  @Test
  void aCandidateThatMissedAChangeNeedsTheNewVotersToo() {
    Cluster c = threeWithLeader1();
    c.write(1, "a");
    c.isolate(3);
    assertEquals(Replica.ChangeResult.PROPOSED, c.replica(1).proposeMembership(c.replica(1).membership().without(3)));
    c.process(1);
    // 2 accepts, but the Accepted and every later word from 1 are lost.
    c.deliver(m -> m instanceof Message.Accept && m.to() == 2);
    c.drop(m -> true);
    c.crash(1);
    c.heal();
    assertEquals(List.of(1, 2, 3), c.replica(2).membership().voters(), "2 has not learned it decided");
    for (int i = 0; i < 300; i++) {
      c.tick(2, 1);
      c.tick(3, 1);
      c.deliverAll();
      assertFalse(c.replica(3).isLeader(), "3 leads without a majority of {1,2}: " + c.replica(3).status());
      assertFalse(c.replica(2).isLeader(), "2 leads without a majority of {1,2}: " + c.replica(2).status());
    }
    c.restart(1);
    run(c, 300);
    int leader = c.replica(1).isLeader() ? 1 : c.replica(2).isLeader() ? 2 : -1;
    assertTrue(leader > 0, "1 or 2 leads: " + c.replica(1).status() + " / " + c.replica(2).status());
    assertEquals(List.of(1, 2), c.replica(leader).membership().voters());
    c.write(leader, "b");
    assertTrue(c.applied(1).contains("b") && c.applied(2).contains("b"));
  }

  @Test
  void membershipValuesRoundTripAndMalformedOnesAreRejected() {
    Membership m = Membership.ofVoters(List.of(1, 2, 3)).with(7, Role.OBSERVER, "[::1]:7071");
    assertEquals(m, Membership.decode(m.encode()));
    assertTrue(Membership.isConfigValue(m.encode()));
    assertFalse(Membership.isConfigValue(Cluster.bytes("a value")));
    byte[] truncated = java.util.Arrays.copyOf(m.encode(), m.encode().length - 3);
    assertThrows(IllegalArgumentException.class, () -> Membership.decode(truncated));
    assertThrows(IllegalArgumentException.class, () -> Membership.ofVoters(List.of(64)));
    assertNull(m.changeRefusal(m.without(7)));
  }
}
