package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A leader's quorum contact is the send time of the latest heartbeat round (or of its first
 * Prepare) that a majority, itself included, answered in its ballot: a leader lease, never
 * measured from when the answers arrived.
 */
class QuorumContactTest {
  static final Ballot B = new Ballot(7, 1);

  static Message.Heartbeat heartbeat(int to, Ballot b, long round) {
    return new Message.Heartbeat(1, to, b, 0, round);
  }

  static Message.HeartbeatAck ack(int from, Ballot b, long round) {
    return new Message.HeartbeatAck(from, 1, b, round);
  }

  @Test
  void aClusterOfOneIsAlwaysInTouch() {
    QuorumContact c = new QuorumContact(List.of(1), 1);
    assertEquals(0, c.ageNanos(123));
  }

  @Test
  void aMajorityOfThreeIsTheLeaderAndItsFreshestFollower() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    assertEquals(Long.MAX_VALUE, c.ageNanos(0), "no answer yet");
    c.sent(heartbeat(2, B, 1), 100);
    c.sent(heartbeat(3, B, 1), 105); // the same round: credited from its first send
    c.sent(heartbeat(2, B, 2), 200);
    c.received(ack(3, B, 1));
    assertEquals(400, c.ageNanos(500), "counted from the send of the round answered, not its arrival");
    c.received(ack(2, B, 2));
    assertEquals(300, c.ageNanos(500));
    c.received(ack(3, B, 1));
    assertEquals(300, c.ageNanos(500), "an older answer does not move it back");
  }

  @Test
  void aMajorityOfFiveNeedsTwoFollowers() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3, 4, 5), 1);
    for (long round = 1; round <= 3; round++) {
      for (int to = 2; to <= 5; to++) {
        c.sent(heartbeat(to, B, round), round * 100);
      }
    }
    c.received(ack(2, B, 3));
    assertEquals(Long.MAX_VALUE, c.ageNanos(1_000), "one follower is not a majority of five");
    c.received(ack(4, B, 1));
    assertEquals(900, c.ageNanos(1_000));
    c.received(ack(5, B, 2));
    assertEquals(800, c.ageNanos(1_000), "the second freshest follower decides");
  }

  @Test
  void promisesCountFromTheFirstPrepare() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    c.sent(new Message.Prepare(1, 2, B, 1, 0), 50);
    c.sent(new Message.Prepare(1, 2, B, 1, 0), 80); // resent
    c.received(new Message.Promise(2, 1, B, 1, Message.Promise.COVERS_ALL, List.of()));
    assertEquals(50, c.ageNanos(100), "a leader is in touch from its election on");
  }

  @Test
  void answersInAnotherBallotOrToRoundsNeverSentCountForNothing() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    c.sent(heartbeat(2, B, 5), 100);
    c.received(ack(2, new Ballot(6, 3), 5));
    c.received(ack(2, B, 4));
    c.received(ack(2, B, 6));
    c.received(ack(1, B, 5)); // ourselves
    assertEquals(Long.MAX_VALUE, c.ageNanos(200));

    Ballot next = new Ballot(9, 1);
    c.received(ack(2, B, 5));
    assertEquals(100, c.ageNanos(200));
    c.sent(heartbeat(2, next, 1), 300);
    assertEquals(Long.MAX_VALUE, c.ageNanos(400), "a new ballot starts from nothing");
    c.received(ack(3, next, 1));
    assertEquals(100, c.ageNanos(400));
  }

  @Test
  void roundsTooOldToRememberEarnNothing() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    for (long round = 1; round <= QuorumContact.ROUNDS_KEPT + 10; round++) {
      c.sent(heartbeat(2, B, round), round);
    }
    c.received(ack(2, B, 3));
    assertEquals(Long.MAX_VALUE, c.ageNanos(1_000));
    c.received(ack(2, B, QuorumContact.ROUNDS_KEPT + 10));
    assertEquals(1_000 - QuorumContact.ROUNDS_KEPT - 10, c.ageNanos(1_000));
  }

  @Test
  void aNewVoterCountsTowardsTheQuorumAndTheContactIsComputedAgainOverTheNewVoters() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    c.sent(heartbeat(2, B, 1), 100);
    c.sent(heartbeat(2, B, 2), 200);
    c.received(ack(2, B, 2));
    assertEquals(300, c.ageNanos(500), "2 of 3");
    // Voters 1..5: our contact with 2 alone is no majority any more.
    c.voters(List.of(1, 2, 3, 4, 5));
    assertEquals(Long.MAX_VALUE, c.ageNanos(500));
    c.received(ack(4, B, 1));
    assertEquals(400, c.ageNanos(500), "1, 2 and 4 of five: the older of the two followers' contacts");
    // Back to three voters without 4: 2's contact is kept.
    c.voters(List.of(1, 2, 3));
    assertEquals(300, c.ageNanos(500));
  }

  @Test
  void aLearnerIsNotPartOfTheQuorum() {
    QuorumContact c = new QuorumContact(List.of(1, 2, 3), 1);
    c.sent(heartbeat(4, B, 1), 100);
    c.received(ack(4, B, 1));
    assertEquals(Long.MAX_VALUE, c.ageNanos(500), "a learner (4) acknowledging is no majority of voters");
  }
}
