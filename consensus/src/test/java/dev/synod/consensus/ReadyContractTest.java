package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Prepare;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step/Ready/advance contract and what the replica does with input it must not act on. */
class ReadyContractTest {
  @Test
  void readyMustBeFollowedByAdvance() {
    Replica r = new Replica(ReplicaConfig.of(1, List.of(1)), DurableState.founding(), Cluster.ZERO);
    r.ready();
    assertThrows(IllegalStateException.class, r::ready);
    r.advance();
    assertThrows(IllegalStateException.class, r::advance);
  }

  @Test
  void messagesNotAddressedToUsOrFromStrangersAreIgnored() {
    Replica r = new Replica(Cluster.config(1, 3), new DurableState(Ballot.ZERO, new java.util.TreeMap<>(), 0, 0, false),
        Cluster.ZERO);
    r.step(new Prepare(2, 9, new Ballot(5, 2), 1, 0)); // for node 9
    r.step(new Prepare(7, 1, new Ballot(5, 7), 1, 0)); // from a non-member
    r.step(new Prepare(2, 1, new Ballot(5, 3), 1, 0)); // ballot of node 3, sent by node 2
    r.step(null);
    assertFalse(r.hasReady());
    assertEquals(Ballot.ZERO, r.status().ballot());
  }

  @Test
  void compactingBeyondWhatWasHandedOutIsAProgrammerError() {
    Replica r = new Replica(ReplicaConfig.of(1, List.of(1)), DurableState.founding(), Cluster.ZERO);
    assertThrows(IllegalArgumentException.class, () -> r.compact(5));
  }

  @Test
  void statusReportsRoleBallotAndPeers() {
    Cluster c = new Cluster(3);
    assertEquals("follower", c.replica(1).status().role());
    c.elect(1);
    Replica.Status s = c.replica(1).status();
    assertEquals("leader", s.role());
    assertEquals(1, s.leaderId());
    assertEquals(List.of(2, 3), List.copyOf(s.peerMatch().keySet()));
    assertEquals(s.commitIndex(), s.peerMatch().get(2));
    assertEquals(1, c.replica(2).leaderId());
    assertEquals(-1, new Replica(Cluster.config(1, 3), DurableState.empty(), Cluster.ZERO).leaderId());
  }

  @Test
  void onlyALeadersAcceptsMayGoOutBeforeThePersist() {
    Cluster c = new Cluster(3);
    c.elect(1);
    assertTrue(c.replica(1).propose(new byte[] {7}));
    Replica.Ready leader = c.replica(1).ready();
    List<Message> early = leader.sendBeforePersist();
    List<Message> late = leader.sendAfterPersist();
    assertEquals(2, early.size(), "one Accept per follower: " + leader.messages());
    assertTrue(early.stream().allMatch(m -> m instanceof Message.Accept));
    assertTrue(late.stream().noneMatch(m -> m instanceof Message.Accept));
    assertEquals(leader.messages().size(), early.size() + late.size());
    c.replica(1).advance();

    // An acceptor's acknowledgement speaks for what it persisted: it never goes early.
    Message.Accept accept = (Message.Accept) early.get(0);
    c.replica(accept.to()).step(accept);
    Replica.Ready follower = c.replica(accept.to()).ready();
    assertTrue(follower.sendBeforePersist().isEmpty());
    assertTrue(follower.sendAfterPersist().stream().anyMatch(m -> m instanceof Message.Accepted));
  }
}
