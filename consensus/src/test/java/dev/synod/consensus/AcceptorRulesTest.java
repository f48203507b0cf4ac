package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.Nack;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Promise;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The acceptor's rules (Lamport, "Paxos Made Simple", P1a/P2b), one replica at a time: it
 * promises only ballots at least its promise, it never accepts below its promise, and whatever it
 * reports is durable in the same Ready that sends the report.
 */
class AcceptorRulesTest {
  private static final Ballot B3 = new Ballot(3, 1);
  private static final Ballot B5 = new Ballot(5, 2);
  private static final Ballot B6 = new Ballot(6, 3);

  /** Replica 1 of {1,2,3}, recovered with this promise, these accepted entries and commit index. */
  private static Replica acceptor(Ballot promised, long commitIndex, Entry... accepted) {
    return acceptor(Cluster.config(1, 3), promised, commitIndex, accepted);
  }

  private static Replica acceptor(ReplicaConfig config, Ballot promised, long commitIndex, Entry... accepted) {
    TreeMap<Long, Entry> log = new TreeMap<>();
    for (Entry e : accepted) {
      log.put(e.slot(), e);
    }
    Replica r = new Replica(config, new DurableState(promised, log, commitIndex, 0, false), Cluster.ZERO);
    drain(r);
    return r;
  }

  private static void drain(Replica r) {
    while (r.hasReady()) {
      r.ready();
      r.advance();
    }
  }

  private static Entry entry(long slot, Ballot b, String v) {
    return new Entry(slot, b, Cluster.bytes(v));
  }

  @Test
  void p1b_promisesABallotAboveItsPromiseAndPersistsItInTheSameReady() {
    Replica r = acceptor(B5, 0);
    r.step(new Prepare(3, 1, B6, 1, 0));
    Replica.Ready ready = r.ready();
    assertEquals(B6, ready.promised(), "the promise is persisted...");
    Promise p = assertInstanceOf(Promise.class, ready.messages().get(0));
    assertEquals(B6, p.ballot(), "...by the same Ready that sends it (persist before send)");
    assertEquals(B6, r.status().ballot());
  }

  @Test
  void p1b_refusesABallotBelowItsPromiseAndSaysWhy() {
    Replica r = acceptor(B5, 0);
    r.step(new Prepare(3, 1, new Ballot(4, 3), 1, 0));
    Replica.Ready ready = r.ready();
    assertNull(ready.promised(), "nothing to persist");
    Nack n = assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals(B5, n.promised(), "the Nack carries the higher promise so the candidate can step over it");
    assertEquals(B5, r.status().ballot());
  }

  @Test
  void p1b_equalBallotIsPromisedAgain_idempotentRetry() {
    Replica r = acceptor(B5, 0);
    r.step(new Prepare(2, 1, B5, 1, 0));
    Replica.Ready ready = r.ready();
    assertNull(ready.promised(), "unchanged: nothing new to persist");
    assertInstanceOf(Promise.class, ready.messages().get(0));
  }

  @Test
  void p1b_refusesACandidateBehindOnCommits_itCouldNotLearnWhatWasCompacted() {
    Replica r = acceptor(B3, 2, entry(1, B3, "a"), entry(2, B3, "b"));
    r.step(new Prepare(3, 1, B6, 2, 1));
    Replica.Ready ready = r.ready();
    Nack n = assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals(2, n.commitIndex());
    assertNull(ready.promised(), "a refused candidate does not raise the promise");
  }

  @Test
  void p1b_promiseReportsEveryAcceptedEntryFromTheCandidatesFirstOpenSlot() {
    Replica r = acceptor(B3, 1, entry(1, B3, "a"), entry(2, B3, "b"), entry(4, B3, "d"));
    r.step(new Prepare(2, 1, B5, 2, 1));
    Promise p = assertInstanceOf(Promise.class, r.ready().messages().get(0));
    assertEquals(List.of(entry(2, B3, "b"), entry(4, B3, "d")), p.entries());
    assertEquals(Promise.COVERS_ALL, p.coveredTo());
  }

  @Test
  void p1b_promiseCoversABoundedWindow_theCandidateAsksForTheNext() {
    ReplicaConfig small = new ReplicaConfig(1, List.of(1, 2, 3), 10, 20, 2, 64, 2, 8);
    Replica r = acceptor(small, B3, 0, entry(1, B3, "a"), entry(2, B3, "b"), entry(3, B3, "c"));
    r.step(new Prepare(2, 1, B5, 1, 0));
    Promise first = assertInstanceOf(Promise.class, r.ready().messages().get(0));
    r.advance();
    assertEquals(2, first.coveredTo());
    assertEquals(2, first.entries().size());
    r.step(new Prepare(2, 1, B5, 3, 0));
    Promise second = assertInstanceOf(Promise.class, r.ready().messages().get(0));
    assertEquals(Promise.COVERS_ALL, second.coveredTo());
    assertEquals(List.of(entry(3, B3, "c")), second.entries());
  }

  @Test
  void p2b_acceptsAtOrAboveItsPromise_raisesIt_andPersistsBeforeAcknowledging() {
    Replica r = acceptor(B3, 0);
    r.step(new Accept(2, 1, B5, 0, List.of(entry(1, B5, "x"), entry(2, B5, "y"))));
    Replica.Ready ready = r.ready();
    assertEquals(B5, ready.promised());
    assertEquals(List.of(entry(1, B5, "x"), entry(2, B5, "y")), ready.entries());
    Accepted a = assertInstanceOf(Accepted.class, ready.messages().get(0));
    assertEquals(1, a.firstSlot());
    assertEquals(2, a.lastSlot());
    assertEquals(2, r.leaderId(), "the sender of a valid Accept is the leader");
  }

  @Test
  void p2b_neverAcceptsBelowItsPromise() {
    Replica r = acceptor(B5, 0);
    Ballot old = new Ballot(3, 3);
    r.step(new Accept(3, 1, old, 0, List.of(entry(1, old, "stale"))));
    Replica.Ready ready = r.ready();
    assertEquals(List.of(), ready.entries(), "nothing accepted");
    Nack n = assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals(B5, n.promised());
    assertEquals(B5, r.status().ballot());
  }

  @Test
  void p2b_aRestartedAcceptorStillRefusesBelowItsDurablePromise() {
    Cluster.Disk disk = new Cluster.Disk(false);
    Replica r = new Replica(Cluster.config(1, 3), disk.recover(), Cluster.ZERO);
    r.step(new Prepare(3, 1, B6, 1, 0));
    disk.persist(r.ready()); // persisted; the Promise goes out
    r = new Replica(Cluster.config(1, 3), disk.recover(), Cluster.ZERO); // crash and restart
    drain(r);
    r.step(new Accept(2, 1, B5, 0, List.of(entry(1, B5, "late"))));
    Replica.Ready ready = r.ready();
    assertEquals(List.of(), ready.entries());
    assertInstanceOf(Nack.class, ready.messages().get(0));
  }

  @Test
  void p1b_aPromiseLostBeforePersistingWasNeverSent() {
    Cluster.Disk disk = new Cluster.Disk(false);
    Replica r = new Replica(Cluster.config(1, 3), disk.recover(), Cluster.ZERO);
    r.step(new Prepare(3, 1, B6, 1, 0));
    Replica.Ready unpersisted = r.ready();
    assertInstanceOf(Promise.class, unpersisted.messages().get(0));
    // Crash between ready() and persistence: the driver sends nothing of that Ready.
    r = new Replica(Cluster.config(1, 3), disk.recover(), Cluster.ZERO);
    assertEquals(Ballot.ZERO, r.status().ballot(), "the promise is gone, and so is the reply");
  }

  /**
   * Replica 1 promised {@code promised}, then learned slot 1 decided as {@code decided} the way a
   * follower does: a heartbeat of the leader of {@code leaderBallot} (node 3) tells it the commit
   * index, and the decided entry comes in a CatchupReply. Learning raises no promise.
   */
  private static Replica learnedDecided(Ballot promised, Ballot leaderBallot, Entry decided,
      Entry... accepted) {
    Replica r = acceptor(promised, 0, accepted);
    r.step(new Heartbeat(3, 1, leaderBallot, 1, 1));
    drain(r);
    r.step(new CatchupReply(3, 1, 1, List.of(decided)));
    drain(r);
    assertEquals(1, r.status().commitIndex(), "slot 1 is known decided");
    return r;
  }

  /**
   * P2c (every ballot at or above the one that chose a value proposes that value) read backwards: an
   * Accept that proposes another value for a slot known decided comes from a ballot below the one
   * that chose it, a deposed leader, which a majority has promised to refuse. The acceptor keeps the
   * decided entry, claims no acceptance it did not store, and refuses with the decided entry's
   * ballot so that leader steps down. It does not halt: the message is legal.
   */
  @Test
  void p2c_anAcceptForAKnownDecidedSlotWithAnotherValueIsRefused_theDecidedEntryStays() {
    Entry decided = entry(1, B6, "decided");
    Replica r = learnedDecided(B3, B6, decided);
    assertEquals(B3, r.status().ballot(), "learning a decision raised no promise");
    r.step(new Accept(2, 1, B5, 0, List.of(entry(1, B5, "stale"), entry(2, B5, "later"))));
    Replica.Ready ready = r.ready();
    r.advance();
    assertEquals(List.of(), ready.entries(), "nothing stored, not even the undecided slot 2");
    assertNull(ready.promised(), "a refusal changes no promise");
    assertEquals(1, ready.messages().size(), ready.messages().toString());
    Nack n = assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals(B5, n.rejected());
    assertEquals(B6, n.promised(), "the ballot that decided the slot: the deposed leader steps over it");
    assertEquals(decided, decidedAt(r), "the decided entry is still what this replica serves");
    // A retransmission of the same Accept is refused the same way.
    r.step(new Accept(2, 1, B5, 0, List.of(entry(1, B5, "stale"))));
    ready = r.ready();
    r.advance();
    assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals(List.of(), ready.entries());
  }

  /**
   * The decided value may sit in our log under a ballot below the Accept's (we accepted it in an
   * earlier ballot before it was chosen in a later one): the Accept's ballot passes the promise
   * check, yet its value differs from the decided one. Still no acceptance is claimed.
   */
  @Test
  void p2c_theDecidedValueHeldUnderAnOlderBallotIsKeptToo() {
    Ballot older = new Ballot(2, 2);
    Entry held = entry(1, older, "decided");
    Replica r = learnedDecided(older, B6, entry(1, B6, "decided"), held);
    r.step(new Accept(2, 1, B5, 0, List.of(entry(1, B5, "stale"))));
    Replica.Ready ready = r.ready();
    r.advance();
    assertEquals(List.of(), ready.entries());
    assertTrue(ready.messages().stream().noneMatch(m -> m instanceof Accepted), ready.messages().toString());
    assertInstanceOf(Nack.class, ready.messages().get(0));
    assertEquals("decided", Cluster.text(decidedAt(r)));
  }

  /** The same decided value, re-proposed by a live leader, is still acknowledged (liveness). */
  @Test
  void p2b_anAcceptRepeatingTheDecidedValueIsAcknowledged() {
    Replica r = learnedDecided(B3, B5, entry(1, B5, "decided"));
    r.step(new Accept(3, 1, B6, 1, List.of(entry(1, B6, "decided"))));
    Replica.Ready ready = r.ready();
    r.advance();
    Accepted a = assertInstanceOf(Accepted.class, ready.messages().get(0));
    assertEquals(1, a.lastSlot());
  }

  /** The entry the replica holds for slot 1, as it serves it to a replica catching up. */
  private static Entry decidedAt(Replica r) {
    r.step(new CatchupRequest(2, 1, 1));
    Replica.Ready ready = r.ready();
    r.advance();
    CatchupReply reply = assertInstanceOf(CatchupReply.class, ready.messages().get(0));
    return reply.entries().get(0);
  }
}
