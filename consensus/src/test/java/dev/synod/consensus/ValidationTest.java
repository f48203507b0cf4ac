package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The public value types: defaults, ordering, equality, and validation that names the field. */
class ValidationTest {
  private static void rejects(String field, Runnable construct) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
    assertTrue(e.getMessage().contains(field), "message should name " + field + ": " + e.getMessage());
  }

  @Test
  void replicaConfigDefaults() {
    ReplicaConfig c = ReplicaConfig.of(2, List.of(3, 1, 2));
    assertEquals(List.of(1, 2, 3), c.members(), "kept sorted");
    assertEquals(new ReplicaConfig(2, List.of(1, 2, 3), 10, 20, 2, 256, 256, 64), c);
    assertEquals(2, c.quorum());
    assertEquals(1, ReplicaConfig.of(5, List.of(5)).quorum());
  }

  @Test
  void replicaConfigValidationNamesTheField() {
    List<Integer> m = List.of(1, 2, 3);
    // A member joining a running cluster need not be among the configured voters; its id must be
    // one a membership can hold.
    new ReplicaConfig(4, m, 10, 20, 2, 1, 1, 1);
    rejects("selfId", () -> new ReplicaConfig(64, m, 10, 20, 2, 1, 1, 1));
    rejects("members", () -> new ReplicaConfig(1, List.of(1, 64), 10, 20, 2, 1, 1, 1));
    rejects("members", () -> new ReplicaConfig(1, List.of(), 10, 20, 2, 1, 1, 1));
    rejects("members", () -> new ReplicaConfig(1, List.of(1, 1, 2), 10, 20, 2, 1, 1, 1));
    rejects("electionTicksMin", () -> new ReplicaConfig(1, m, 0, 20, 2, 1, 1, 1));
    rejects("electionTicksMax", () -> new ReplicaConfig(1, m, 10, 9, 2, 1, 1, 1));
    rejects("heartbeatTicks", () -> new ReplicaConfig(1, m, 10, 20, 10, 1, 1, 1));
    rejects("inflightSlotsMax", () -> new ReplicaConfig(1, m, 10, 20, 2, 0, 1, 1));
    rejects("catchupEntriesMax", () -> new ReplicaConfig(1, m, 10, 20, 2, 1, 0, 1));
    rejects("messageEntriesMax", () -> new ReplicaConfig(1, m, 10, 20, 2, 1, 1, 0));
  }

  @Test
  void durableStateValidation() {
    TreeMap<Long, Entry> log = new TreeMap<>();
    log.put(2L, new Entry(2, Ballot.ZERO, new byte[0]));
    rejects("commitIndex", () -> new DurableState(Ballot.ZERO, log, 2, 0, false)); // slot 1 missing
    rejects("promised", () -> new DurableState(null, log, 0, 0, false));
    rejects("snapshotSlot", () -> new DurableState(Ballot.ZERO, log, 0, -1, false));
    TreeMap<Long, Entry> wrongKey = new TreeMap<>();
    wrongKey.put(3L, new Entry(2, Ballot.ZERO, new byte[0]));
    rejects("accepted", () -> new DurableState(Ballot.ZERO, wrongKey, 0, 0, false));
    assertEquals(2, new DurableState(Ballot.ZERO, log, 2, 1, false).commitIndex(), "slot 1 is in the snapshot");
    DurableState empty = DurableState.empty();
    assertTrue(empty.fresh());
    assertEquals(0, empty.commitIndex());
  }

  @Test
  void ballotsOrderByRoundThenNode() {
    assertTrue(new Ballot(2, 1).isAbove(new Ballot(1, 9)));
    assertTrue(new Ballot(2, 1).isBelow(new Ballot(2, 2)));
    assertEquals(0, new Ballot(3, 3).compareTo(new Ballot(3, 3)));
    assertTrue(Ballot.ZERO.isBelow(new Ballot(1, 0)));
    rejects("round", () -> new Ballot(-1, 0));
  }

  @Test
  void entriesCompareAndPrintTheirBytes() {
    Entry a = new Entry(1, Ballot.ZERO, new byte[] {1, 2});
    Entry b = new Entry(1, Ballot.ZERO, new byte[] {1, 2});
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, new Entry(1, Ballot.ZERO, new byte[] {1, 3}));
    assertTrue(a.toString().contains("0102"), a.toString());
    assertTrue(new Entry(1, Ballot.ZERO, new byte[0]).isNoop());
    rejects("slot", () -> new Entry(0, Ballot.ZERO, new byte[0]));
    rejects("value", () -> new Entry(1, Ballot.ZERO, null));
  }
}
