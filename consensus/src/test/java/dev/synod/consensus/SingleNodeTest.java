package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A cluster of one decides alone, on the very same path as a cluster of many. */
class SingleNodeTest {
  private final Cluster.Disk disk = new Cluster.Disk(true);
  private final List<Entry> applied = new ArrayList<>();
  private final List<Replica.ReadState> reads = new ArrayList<>();

  private Replica start() {
    Replica r = new Replica(ReplicaConfig.of(7, List.of(7)), disk.recover(), RandomSource.seeded(1));
    drive(r);
    return r;
  }

  private void drive(Replica r) {
    while (r.hasReady()) {
      Replica.Ready ready = r.ready();
      assertEquals(List.of(), ready.messages(), "a cluster of one has no one to talk to");
      disk.persist(ready);
      applied.addAll(ready.committed());
      reads.addAll(ready.reads());
      r.advance();
    }
  }

  @Test
  void aClusterOfOneBootstrapsElectsItselfAndDecidesAlone() {
    Replica r = start();
    assertTrue(r.isLeader(), "no election timeout to wait for");
    assertEquals(7, r.leaderId());
    assertTrue(r.propose(Cluster.bytes("x")));
    drive(r);
    assertEquals(List.of("-", "x"), applied.stream().map(Cluster::text).toList());
  }

  @Test
  void itsOwnAcceptanceCountsOnlyAfterItIsPersisted() {
    Replica r = start();
    r.propose(Cluster.bytes("x"));
    Replica.Ready first = r.ready();
    assertEquals(1, first.entries().size(), "the entry is to be persisted...");
    assertEquals(List.of(), first.committed(), "...and is not decided until it is");
    disk.persist(first);
    r.advance();
    Replica.Ready second = r.ready();
    assertEquals(List.of("x"), second.committed().stream().map(Cluster::text).toList());
  }

  @Test
  void aRestartKeepsEveryDecisionAndContinuesAfterIt() {
    Replica r = start();
    r.propose(Cluster.bytes("x"));
    drive(r);
    applied.clear();
    r = start(); // the process restarts from its disk
    assertTrue(r.isLeader());
    r.propose(Cluster.bytes("y"));
    drive(r);
    List<String> values = applied.stream().map(Cluster::text).toList();
    assertEquals(List.of("-", "x"), values.subList(0, 2), "re-applied from the start (no snapshot)");
    assertEquals("y", values.get(values.size() - 1));
  }

  @Test
  void readsAreServedAlone() {
    Replica r = start();
    r.propose(Cluster.bytes("x"));
    drive(r);
    r.requestRead(5);
    drive(r);
    assertEquals(List.of(new Replica.ReadState(5, true, 2)), reads);
  }
}
