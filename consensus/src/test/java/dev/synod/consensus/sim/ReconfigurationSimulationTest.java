package dev.synod.consensus.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Membership changes under the simulator's faults ({@link Simulator#reconfiguring}): spares added
 * as learners and observers, learners promoted, voters demoted and removed, leadership handed
 * over, during partitions, crashes, pauses and leader failover. Agreement and the other invariants
 * hold after every event, and after the faults every member of the latest membership catches up
 * and a new write is decided.
 */
class ReconfigurationSimulationTest {
  private static final int SCALE = Integer.getInteger("synod.sim.scale", 1);
  private static final int EVENTS = 5000;

  private static SeedRunner.Summary runAndCheck(long from, int seeds, int replicas) {
    StringBuilder report = new StringBuilder();
    SeedRunner.Summary s = SeedRunner.runReconfiguring(from, seeds * SCALE, replicas, EVENTS,
        r -> report.append(report.length() > 4000 ? "" : "\n" + r.describe()));
    assertEquals(0, s.failed(), s.line() + report);
    return s;
  }

  @Test
  void threeFoundingReplicasAndTwoSpares() {
    SeedRunner.Summary s = runAndCheck(300_001, 3000, 3);
    SimStats t = s.stats();
    assertTrue(t.reconfigs() > 3_000, "membership changes and transfers proposed: " + t);
    assertTrue(t.valuesAcknowledged() > 50_000 && t.elections() > 5_000, t.toString());
    assertTrue(t.snapshotsInstalled() > 100, "catch-up by snapshot: " + t);
  }

  @Test
  void oneFoundingReplicaGrows() {
    SeedRunner.Summary s = runAndCheck(400_001, 1000, 1);
    assertTrue(s.stats().reconfigs() > 1_000, s.stats().toString());
  }

  @Test
  void fiveFoundingReplicas() {
    runAndCheck(500_001, 1000, 5);
  }
}
