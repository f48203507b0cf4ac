package dev.synod.consensus.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The main correctness test: thousands of seeded whole-cluster runs, each with its own mix of
 * faults (see {@link SimConfig#forSeed}), checking agreement, identical applied prefixes,
 * monotonic promises, durable commit markers, linearizable reads after every event, and liveness
 * once the faults stop, then a failover drill (the leader crashes just as its followers' commit
 * indexes differ; the survivors must elect within 20 election timeouts). A failure names the seed,
 * the event and the invariant, and the command that replays it. Sized for CI (about a minute on two cores); scale with -Dsynod.sim.scale=N.
 */
@Tag("simulation")
class SimulationTest {
  private static final int SCALE = Integer.getInteger("synod.sim.scale", 1);
  private static final int EVENTS = 5000;

  private static SeedRunner.Summary runAndCheck(long from, int seeds, int replicas) {
    SeedRunner.Summary s = SeedRunner.run(from, seeds * SCALE, replicas, EVENTS);
    StringBuilder report = new StringBuilder();
    for (SimResult r : s.failures()) {
      report.append('\n').append(r.describe()).append("\n  replay: java -cp tools/target/synod-tools.jar"
          + " dev.synod.tools.sim.SimulateMain ").append(SeedRunner.replayArgs(r));
    }
    assertEquals(0, s.failed(), s.line() + report);
    return s;
  }

  @Test
  void threeReplicas() {
    SeedRunner.Summary s = runAndCheck(1, 5000, 3);
    SimStats t = s.stats();
    // Not vacuous: the runs did what they are meant to exercise.
    assertTrue(t.valuesAcknowledged() > 100_000, t.toString());
    assertTrue(t.elections() > 10_000, t.toString());
    assertTrue(t.wipes() > 500, "wiped disks rejoined: " + t);
    assertTrue(t.snapshotsInstalled() > 1000, "catch-up by snapshot: " + t);
    assertTrue(t.readsOk() > 10_000 && t.readsRefused() > 10_000, t.toString());
    assertTrue(t.crashes() > 10_000 && t.partitions() > 5_000, t.toString());
  }

  /**
   * 16,000 seeds (about 45 s on two cores): bugs that show only with five replicas are rarer per
   * seed. Accepts of a deposed leader for slots a follower learned decided by catch-up crashed about
   * one seed in 10,000; this range held two of them (115564, 115851), the old 1,000 none.
   */
  @Test
  void fiveReplicas() {
    SeedRunner.Summary s = runAndCheck(100_001, 16_000, 5);
    assertTrue(s.stats().wipes() > 0 && s.stats().snapshotsInstalled() > 0, s.stats().toString());
  }

  @Test
  void oneReplica() {
    SeedRunner.Summary s = runAndCheck(200_001, 500, 1);
    assertTrue(s.stats().valuesAcknowledged() > 10_000, s.stats().toString());
  }

  /** Seeds that once failed, with what they found; kept so the fix stays fixed. */
  @Test
  void regressionSeeds() {
    // A wiped replica catching up one entry per round trip while each of its probes made the idle
    // leader propose another no-op: the slot it had to reach kept moving away (liveness).
    SimResult r = SeedRunner.runOne(1_013_067, 3, 5000);
    assertTrue(r.passed(), r.describe());
    // The failover drill found these: a fresh replica never joined a live, idle leader (each probe
    // made the leader propose a no-op, moving the slot to reach faster than catching up reached it),
    // so a leader crash would have left the survivors one vote short.
    for (long seed : new long[] {5, 77, 96, 415}) {
      r = SeedRunner.runOne(seed, 3, 5000);
      assertTrue(r.passed(), r.describe());
    }
    r = SeedRunner.runOne(100_121, 5, 5000);
    assertTrue(r.passed(), r.describe());
    // A follower learned a slot decided by heartbeat and CatchupReply without raising its promise;
    // a deposed leader's Accept (or retransmission) for that slot with another value passed the
    // ballot check and the acceptor threw "safety violation" (the server halted on a legal message).
    for (long seed : new long[] {2_005_180, 2_009_231}) {
      r = SeedRunner.runOne(seed, 5, 5000);
      assertTrue(r.passed(), r.describe());
    }
  }

  /**
   * The server's "no leader elected after the leader stopped", as calm seeded runs: a brand-new
   * cluster whose first leader crashes at once (its members started together, or one after
   * another), a member that starts late and must join before the leader crashes, and a leader
   * crash while the survivors' commit indexes differ. The survivors
   * must elect a leader within 20 election timeouts and go on deciding.
   */
  @ParameterizedTest
  @EnumSource(Simulator.Failover.class)
  void failoverScenarios(Simulator.Failover shape) {
    StringBuilder failures = new StringBuilder();
    int failed = 0;
    for (int replicas : new int[] {3, 5}) {
      for (long seed = 1; seed <= (replicas == 3 ? 1000 : 300) * (long) SCALE; seed++) {
        SimResult r = Simulator.failover(seed, replicas, shape);
        if (!r.passed()) {
          failed++;
          failures.append('\n').append(r.describe());
        }
      }
    }
    assertEquals(0, failed, shape + ": " + failures);
  }

  /**
   * "A second history from empty disks": 1 and 2 found the cluster (3 not started) and decide
   * writes; 1 is wiped, 2 crashes, 1 and 3 start. They are a majority with nothing on disk and must
   * neither elect a leader nor decide anything, before or after 2 returns (see
   * {@link Simulator#emptyMajority}).
   */
  @Test
  void emptyMajorityScenario() {
    StringBuilder failures = new StringBuilder();
    int failed = 0;
    for (long seed = 1; seed <= 300L * SCALE; seed++) {
      SimResult r = Simulator.emptyMajority(seed);
      if (!r.passed()) {
        failed++;
        failures.append('\n').append(r.describe());
      }
    }
    assertEquals(0, failed, failures.toString());
  }

  @Test
  void theSameSeedReplaysTheSameRun() {
    SimResult a = SeedRunner.runOne(42, 3, 2000);
    SimResult b = SeedRunner.runOne(42, 3, 2000);
    assertEquals(a, b, "identical result, stats and event-trace hash");
    assertNotEquals(a.traceHash(), SeedRunner.runOne(43, 3, 2000).traceHash());
  }

  @Test
  void aFailureNamesSeedEventAndInvariant_andReplaysExactly() {
    // Faults stop as soon as the replicas have started, and there is no time to elect anyone.
    SimConfig noTimeForLiveness = withQuietTicks(SimConfig.forSeed(7, 3, 3), 0);
    SimResult first = new Simulator(7, noTimeForLiveness).run();
    assertFalse(first.passed());
    assertTrue(first.describe().startsWith("seed 7 "), first.describe());
    assertTrue(first.describe().contains("FAILED at event " + first.failedAtEvent() + ": liveness"),
        first.describe());
    assertEquals(first, new Simulator(7, noTimeForLiveness).run());
  }

  private static SimConfig withQuietTicks(SimConfig c, int quietTicksMax) {
    return new SimConfig(c.replicas(), c.events(), quietTicksMax, c.delayTicksMax(), c.longDelayPerMille(),
        c.longDelayTicksMax(), c.dropPerMille(), c.duplicatePerMille(), c.partitionPerMille(),
        c.healPerMille(), c.pausePerMille(), c.pauseTicksMax(), c.skewPerMille(), c.crashPerMille(),
        c.crashInReadyPerMille(), c.restartPerMille(), c.wipePerMille(), c.proposePerMille(),
        c.readPerMille(), c.compactPerMille(), c.electionTicksMin(), c.electionTicksMax(),
        c.heartbeatTicks(), c.inflightSlotsMax(), c.catchupEntriesMax(), c.messageEntriesMax());
  }
}
