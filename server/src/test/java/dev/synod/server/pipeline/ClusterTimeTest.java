package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The cluster clock's rule (see ClusterTime), with a manual clock whose wall time jumps. */
class ClusterTimeTest {
  private static final long HOUR_MS = TimeUnit.HOURS.toMillis(1);
  private static final long LEAD = ClusterTime.WALL_LEAD_MS_MAX;

  private final ManualClock clock = new ManualClock();
  /** The decided time, as apply would leave it: max(previous, stamp) of each applied Txn. */
  private final AtomicLong decided = new AtomicLong();
  private final ClusterTime time = new ClusterTime(clock, decided::get);

  /** Stamps a Txn and applies it, as the leader does. */
  private long stampAndApply() {
    long stamp = time.stampMs();
    decided.accumulateAndGet(stamp, Math::max);
    return stamp;
  }

  @Test
  void aNewClusterStartsAtTheWallClockAndFollowsIt() {
    long start = clock.wallMs();
    assertEquals(start, stampAndApply());
    clock.advanceMs(250);
    assertEquals(start + 250, stampAndApply());
    assertEquals(start + 250, time.nowMs());
  }

  @Test
  void aForwardJumpMovesTimeByAtMostTheLeadEvenOverManyWrites() {
    long start = stampAndApply();
    clock.setWallMs(clock.wallMs() + HOUR_MS);
    long last = 0;
    for (int i = 1; i <= 1_000; i++) {
      clock.advanceMs(1);
      last = stampAndApply();
      assertTrue(last <= start + i + LEAD, "write " + i + " stamped " + (last - start) + " ms in");
    }
    assertEquals(start + 1_000 + LEAD, last, "elapsed time plus the lead, not an hour");
    assertEquals(start + 1_000, time.nowMs(), "TTLs are measured on elapsed time alone");
  }

  @Test
  void aBackwardJumpNeitherTurnsTimeBackNorStopsIt() {
    stampAndApply();
    clock.advanceMs(100);
    long before = stampAndApply();
    clock.setWallMs(clock.wallMs() - HOUR_MS);
    long after = stampAndApply();
    assertTrue(after >= before);
    clock.advanceMs(500);
    assertEquals(before + 500, stampAndApply(), "time goes on with elapsed time");
    assertEquals(before + 500, time.nowMs());
  }

  @Test
  void withoutWritesTheClockStillAdvancesSoIdleTtlNodesExpire() {
    long start = stampAndApply();
    clock.advanceMs(5_000);
    clock.setWallMs(0); // and the wall clock is nonsense meanwhile
    assertEquals(start + 5_000, time.nowMs());
  }

  @Test
  void aNewLeaderBehindTheDecidedTimeContinuesFromIt() {
    decided.set(clock.wallMs() + 10_000); // the old leader's clock was 10 s ahead of ours
    long d = decided.get();
    assertEquals(d, stampAndApply(), "never below the decided time");
    clock.advanceMs(300);
    assertEquals(d + 300, stampAndApply(), "and advancing from it at once, not stalled 10 s");
  }

  @Test
  void aNewLeaderAheadOfTheDecidedTimeStampsAtMostTheLeadAhead() {
    long d = clock.wallMs() - HOUR_MS; // our wall clock is an hour ahead of the cluster's time
    decided.set(d);
    assertEquals(d + LEAD, stampAndApply());
    clock.advanceMs(50);
    assertEquals(d + LEAD + 50, stampAndApply());
  }

  @Test
  void aTimeDecidedByAnotherLeaderIsAdoptedWhenAhead() {
    long start = stampAndApply();
    decided.set(start + 20_000); // decided under another leader meanwhile
    assertEquals(start + 20_000, time.nowMs());
    clock.advanceMs(10);
    assertEquals(start + 20_010, time.nowMs());
  }

  @Test
  void afterARestartTimeResumesFromTheDecidedTimeNotFromTheWallClock() {
    long d = clock.wallMs() - HOUR_MS; // everything was down for an hour
    decided.set(d);
    assertEquals(d, time.nowMs(), "an outage cannot be told from a forward jump");
    assertTrue(time.stampMs() <= d + LEAD);
  }

  @Test
  void aFollowerNeverTakesItsOwnWallClockAsTheClustersStart() {
    clock.setWallMs(clock.wallMs() + HOUR_MS); // this member's wall clock is an hour ahead
    assertEquals(0, time.nowMs(), "nothing decided yet: no time at all");
    long d = clock.wallMs() - HOUR_MS;
    decided.set(d); // the first leader's time arrives through the log
    assertEquals(d, time.nowMs());
    clock.advanceMs(100);
    assertEquals(d + 100 + LEAD, time.stampMs(), "a lead of one band, not an hour");
  }

  @Test
  void aFollowerThatKeepsReadingCountsIdleTimeOnceItLeads() {
    long d = clock.wallMs();
    decided.set(d);
    assertEquals(d, time.nowMs()); // a follower's housekeeping round
    clock.advanceMs(HOUR_MS); // the cluster is idle; then the leader fails over to this member
    assertEquals(d + HOUR_MS, time.nowMs());
    assertEquals(d + HOUR_MS, time.stampMs());
  }

  @Test
  void arithmeticSaturatesAtTheEndOfTime() {
    decided.set(Long.MAX_VALUE - 5);
    assertEquals(Long.MAX_VALUE - 5, time.nowMs());
    clock.advanceMs(1_000);
    assertEquals(Long.MAX_VALUE, time.nowMs());
    assertEquals(Long.MAX_VALUE, time.stampMs());
  }
}
