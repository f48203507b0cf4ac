package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Membership.Role;
import dev.synod.consensus.Replica;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What an operator's request makes of the decided membership on the leader, the rules refused
 * before the consensus module is asked, the system node's text, and who waits for what.
 */
class MemberChangesTest {
  static final SortedMap<Integer, String> CONFIGURED = new TreeMap<>(Map.of(1, "h:1", 2, "h:2", 3, "h:3"));
  static final Membership STATIC = Membership.ofVoters(List.of(1, 2, 3));

  static Replica.Status leaderStatus(Membership m, long commit, Map<Integer, Long> match) {
    return new Replica.Status("leader", 1, new Ballot(3, 1), commit, commit, new TreeMap<>(match), m);
  }

  static Membership next(Membership m, MemberChanges.Request r, Replica.Status s) throws MemberChanges.Refused {
    return MemberChanges.next(m, r, s, 1, CONFIGURED);
  }

  static String refusal(Membership m, MemberChanges.Request r, Replica.Status s) {
    return assertThrows(MemberChanges.Refused.class, () -> next(m, r, s)).getMessage();
  }

  @Test
  void addingToAStaticClusterFillsInTheConfiguredAddresses() throws Exception {
    Membership added = next(STATIC, MemberChanges.Request.add(4, Role.LEARNER, "h:4"), leaderStatus(STATIC, 10, Map.of()));
    assertEquals("h:1", added.addressOf(1));
    assertEquals("h:3", added.addressOf(3));
    assertEquals(Role.LEARNER, added.roleOf(4));
    assertEquals("h:4", added.addressOf(4));
    Membership observer = next(STATIC, MemberChanges.Request.add(5, Role.OBSERVER, " h:5 "), leaderStatus(STATIC, 10, Map.of()));
    assertEquals(Role.OBSERVER, observer.roleOf(5));
    assertEquals("h:5", observer.addressOf(5));
  }

  @Test
  void anAddThatCannotWorkIsRefusedWithTheReason() {
    Replica.Status s = leaderStatus(STATIC, 10, Map.of());
    assertTrue(refusal(STATIC, MemberChanges.Request.add(2, Role.LEARNER, "h:9"), s).contains("already a member"));
    assertTrue(refusal(STATIC, MemberChanges.Request.add(4, Role.LEARNER, "h:2"), s).contains("already server 2's"));
    assertTrue(refusal(STATIC, MemberChanges.Request.add(4, Role.LEARNER, "nohost"), s).contains("host:port"));
    assertTrue(refusal(STATIC, MemberChanges.Request.add(4, Role.LEARNER, "h:99999"), s).contains("99999"));
    assertTrue(refusal(STATIC, MemberChanges.Request.add(4, Role.VOTER, "h:4"), s).contains("learner"));
    assertTrue(refusal(STATIC, MemberChanges.Request.add(64, Role.LEARNER, "h:64"), s).contains("1..63"));
  }

  @Test
  void onlyALearnerThatCaughtUpIsPromoted() throws Exception {
    Membership withLearner = STATIC.with(4, Role.LEARNER, "h:4");
    MemberChanges.Request promote = MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, 4);
    String behind = refusal(withLearner, promote, leaderStatus(withLearner, 1_000, Map.of(2, 1_000L, 4, 500L)));
    assertTrue(behind.contains("learner 4 is 500 slots behind"), behind);
    String nothing = refusal(withLearner, promote, leaderStatus(withLearner, 1_000, Map.of()));
    assertTrue(nothing.contains("learner 4 is not caught up"), nothing);
    Membership promoted = next(withLearner, promote,
        leaderStatus(withLearner, 1_000, Map.of(4, 1_000L - MemberChanges.PROMOTE_LAG_SLOTS_MAX)));
    assertEquals(Role.VOTER, promoted.roleOf(4));
    assertEquals(List.of(1, 2, 3, 4), promoted.voters());
    assertTrue(refusal(STATIC, MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, 2), leaderStatus(STATIC, 1, Map.of()))
        .contains("a voter"));
    Membership observer = STATIC.with(5, Role.OBSERVER, "h:5");
    assertTrue(refusal(observer, MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, 5),
        leaderStatus(observer, 1, Map.of(5, 1L))).contains("only a learner"));
  }

  @Test
  void theLeaderIsNotRemovedButAnotherMemberIs() throws Exception {
    Replica.Status s = leaderStatus(STATIC, 1, Map.of());
    assertTrue(refusal(STATIC, MemberChanges.Request.of(MemberChanges.Kind.REMOVE, 1), s).contains("transfer leadership first"));
    assertTrue(refusal(STATIC, MemberChanges.Request.of(MemberChanges.Kind.REMOVE, 7), s).contains("not a member"));
    assertEquals(List.of(1, 2), next(STATIC, MemberChanges.Request.of(MemberChanges.Kind.REMOVE, 3), s).voters());
  }

  @Test
  void waitersAreAnsweredWhenTheirMembershipIsAppliedOrTheirLeaderLeadsOrAtTheDeadline() {
    MemberChanges changes = new MemberChanges();
    List<MemberChanges.Outcome> got = new ArrayList<>();
    Membership target = STATIC.with(4, Role.LEARNER, "h:4");
    changes.awaitMembership(target, got::add, 100);
    changes.awaitLeader(2, got::add, 200);
    changes.applied(STATIC.without(3), 1);
    changes.leaderIs(1, STATIC);
    assertEquals(List.of(), got, "another membership, or the same leader, answers no one");
    changes.applied(target, 1);
    assertEquals(MemberChanges.Code.OK, got.get(0).code());
    changes.expire(199, target, 1);
    assertEquals(1, got.size());
    changes.expire(200, target, 1);
    assertEquals(MemberChanges.Code.TIMEOUT, got.get(1).code());
    assertTrue(got.get(1).message().contains("server 2 did not take over"), got.get(1).message());
  }

  @Test
  void theSystemNodeTextRoundTrips() {
    Membership m = STATIC.with(4, Role.LEARNER, "h:4").with(5, Role.OBSERVER, "[::1]:7075").with(2, Role.VOTER, "");
    String text = new String(MembersNode.encode(m), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.startsWith("1 voter -\n2 voter -\n"), text);
    assertTrue(text.contains("4 learner h:4\n5 observer [::1]:7075\n"), text);
    assertEquals(m, MembersNode.decode(MembersNode.encode(m)));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> MembersNode.decode("1 voter h:1\nx voter h:2\n".getBytes())).getMessage().contains("line 2"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> MembersNode.decode("1 leader h:1\n".getBytes())).getMessage().contains("leader"));
  }

  @Test
  void theDirectoryFollowsTheDecidedMembershipButDialsConfiguredMembersAtTheirConfiguredAddress() {
    MemberDirectory d = new MemberDirectory(new ClusterConfig(1, CONFIGURED));
    assertTrue(d.learn(STATIC.with(4, Role.LEARNER, "h:4")));
    assertEquals("h:4", d.address(4));
    assertTrue(d.adopt(STATIC.with(4, Role.VOTER, "h:4").without(3).with(2, Role.VOTER, "elsewhere:2")));
    assertEquals(List.of(1, 2, 4), d.ids());
    assertEquals("h:2", d.address(2), "--members says how this server reaches 2");
    assertTrue(!d.adopt(Membership.ofVoters(List.of(2, 4)).with(4, Role.VOTER, "h:4")),
        "this server (1), removed, still knows itself: nothing else changed");
    assertEquals(List.of(1, 2, 4), d.ids());
    assertTrue(d.adopt(Membership.ofVoters(List.of(1, 2))));
    assertEquals(List.of(1, 2), d.ids(), "4 removed");
  }

  @Test
  void memberIdsAreOneToSixtyThree() {
    assertEquals(List.of(2, 63), ClusterConfig.parse("63=h:1,2=h:2", 2, "h", 1).memberIds());
    String msg = assertThrows(IllegalArgumentException.class, () -> ClusterConfig.parse("64=h:1,2=h:2", 2, "h", 1))
        .getMessage();
    assertTrue(msg.contains("1..63"), msg);
    assertThrows(IllegalArgumentException.class, () -> ClusterConfig.parse("0=h:1,2=h:2", 2, "h", 1));
  }
}
