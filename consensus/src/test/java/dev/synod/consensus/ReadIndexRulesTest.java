package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.HeartbeatAck;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Promise;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Linearizable reads by read index (etcd's ReadIndex; Raft thesis section 6.4): the leader
 * answers with its commit index only after a majority acknowledged a heartbeat round sent after
 * the read was requested, and only once it has committed an entry in its own ballot.
 */
class ReadIndexRulesTest {
  private static Replica.ReadState only(List<Replica.ReadState> reads) {
    assertEquals(1, reads.size(), "reads: " + reads);
    return reads.get(0);
  }

  @Test
  void readIndex_needsAQuorumOfAcksForARoundStartedAfterTheRequest() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    c.tick(1, 2); // a heartbeat round that started before the read
    List<Message> earlier = List.copyOf(c.inFlight);
    c.drop(m -> true);
    c.replica(1).requestRead(7);
    c.process(1);
    assertEquals(List.of(), c.node(1).reads);
    c.drop(m -> true); // this round's heartbeats are lost
    c.inFlight.addAll(earlier); // the earlier round's arrive, and are acknowledged
    c.deliverAll();
    assertEquals(List.of(), c.node(1).reads, "acks for a round sent before the read do not count");
    c.tick(1, 2); // the next round
    c.deliver(m -> m instanceof Heartbeat && m.to() == 2 || m instanceof HeartbeatAck);
    Replica.ReadState read = only(c.node(1).reads);
    assertEquals(new Replica.ReadState(7, true, c.replica(1).status().commitIndex()), read);
  }

  @Test
  void readIndex_waitsUntilTheLeaderHasCommittedInItsOwnBallot() {
    Cluster c = new Cluster(3);
    c.tick(1, 10);
    c.deliver(m -> m instanceof Message.PreVote || m instanceof Message.PreVoteReply
        || m instanceof Prepare || m instanceof Promise);
    Replica leader = c.replica(1);
    c.replica(1).requestRead(1);
    c.process(1);
    c.deliver(m -> m instanceof Heartbeat || m instanceof HeartbeatAck);
    assertEquals(List.of(), c.node(1).reads, "no-op not committed yet: the commit index may be stale");
    c.deliver(m -> m instanceof Accept || m instanceof Accepted);
    c.deliver(m -> m instanceof Heartbeat || m instanceof HeartbeatAck);
    Replica.ReadState read = only(c.node(1).reads);
    assertEquals(1, read.index());
    assertEquals(true, read.ok());
    assertEquals(1, leader.status().commitIndex());
  }

  @Test
  void aFollowerRefusesReads_theDriverForwardsThem() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.replica(2).requestRead(3);
    c.process(2);
    assertEquals(new Replica.ReadState(3, false, -1), only(c.node(2).reads));
  }

  @Test
  void aDeposedLeaderCannotServeAStaleRead() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.write(1, "a");
    c.isolate(1);
    c.elect(2); // the others move on and decide more without node 1
    c.write(2, "b");
    c.replica(1).requestRead(9); // node 1 still believes it leads
    c.process(1);
    c.heal();
    c.tick(1, 2);
    c.deliverAll();
    Replica.ReadState read = only(c.node(1).reads);
    assertFalse(read.ok(), "the heartbeat round meets a higher promise: step down, refuse the read");
    assertFalse(c.replica(1).isLeader());
  }

  @Test
  void readsPendingAtStepDownAreRefused() {
    Cluster c = new Cluster(3);
    c.elect(1);
    c.replica(1).requestRead(4);
    c.process(1);
    c.drop(m -> true);
    long commit = c.replica(1).status().commitIndex();
    c.replica(1).step(new Prepare(2, 1, new Ballot(9, 2), commit + 1, commit)); // a higher ballot
    c.process(1); // node 1 promises it: it steps down
    assertEquals(new Replica.ReadState(4, false, -1), only(c.node(1).reads));
  }
}
