package dev.synod.consensus.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Replica;
import org.junit.jupiter.api.Test;

/** The checker itself: each invariant fails when it should, with a message that says which. */
class InvariantsTest {
  private static final Ballot B = new Ballot(1, 1);

  private static Entry value(long slot, long id) {
    return new Entry(slot, B, Invariants.clientValue(id));
  }

  private static void violates(String words, Runnable r) {
    InvariantViolation v = assertThrows(InvariantViolation.class, r::run);
    assertTrue(v.getMessage().contains(words), v.getMessage());
  }

  @Test
  void agreement_twoValuesForOneSlot() {
    Invariants inv = new Invariants();
    long h = inv.applied(1, 0, Invariants.HASH_START, value(1, 1));
    violates("agreement", () -> inv.applied(2, 0, Invariants.HASH_START, value(1, 2)));
    assertEquals(h, inv.applied(3, 0, Invariants.HASH_START, value(1, 1)), "same value, same state");
  }

  @Test
  void appliedSequencesMustBeGapFree() {
    Invariants inv = new Invariants();
    violates("contiguous", () -> inv.applied(1, 0, Invariants.HASH_START, value(2, 1)));
  }

  @Test
  void aValueIsDecidedInOneSlotOnly() {
    Invariants inv = new Invariants();
    long h = inv.applied(1, 0, Invariants.HASH_START, value(1, 5));
    violates("two slots", () -> inv.applied(1, 1, h, value(2, 5)));
  }

  @Test
  void linearizability_aReadMustSeeEveryWriteAcknowledgedBeforeIt() {
    Invariants inv = new Invariants();
    long h = inv.applied(1, 0, Invariants.HASH_START, value(1, 1));
    inv.applied(1, 1, h, value(2, 2));
    inv.readRequested(10);
    violates("linearizability", () -> inv.readAnswered(1, new Replica.ReadState(10, true, 1)));
    inv.readRequested(11);
    assertTrue(inv.readAnswered(1, new Replica.ReadState(11, true, 2)));
    inv.readRequested(12);
    assertEquals(false, inv.readAnswered(1, new Replica.ReadState(12, false, -1)), "a refusal is fine");
  }

  @Test
  void aDurableCommitMarkerMustCoverDecidedEntriesOnly() {
    Invariants inv = new Invariants();
    SimDisk disk = new SimDisk(true);
    disk.persist(1, new Replica.Ready(null, java.util.List.of(), 1, java.util.List.of(),
        java.util.List.of(), java.util.List.of(), -1), inv);
    violates("without a durable entry", () -> inv.durableCommit(1, disk, 0));
  }

  @Test
  void aPromiseMustNeverGoBackwards() {
    Invariants inv = new Invariants();
    SimDisk disk = new SimDisk(true);
    disk.persist(1, ready(new Ballot(5, 1)), inv);
    violates("below its durable promise", () -> disk.persist(1, ready(new Ballot(4, 2)), inv));
  }

  private static Replica.Ready ready(Ballot promised) {
    return new Replica.Ready(promised, java.util.List.of(), -1, java.util.List.of(), java.util.List.of(),
        java.util.List.of(), -1);
  }
}
