package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SessionTrackerTest {
  final ManualClock clock = new ManualClock();
  final SessionTracker tracker = new SessionTracker(clock);

  @Test
  void aSessionExpiresOnlyAfterItsTimeoutWithoutHeartbeats() {
    tracker.add(1, 1_000);
    tracker.add(2, 1_000);
    clock.advanceMs(600);
    assertTrue(tracker.touch(2));
    assertEquals(1_000, tracker.timeLeftMs(2));
    assertEquals(400, tracker.timeLeftMs(1));
    clock.advanceMs(399);
    assertEquals(List.of(), tracker.collectExpired());
    clock.advanceMs(1);
    assertEquals(List.of(1L), tracker.collectExpired());
    assertEquals(List.of(), tracker.collectExpired(), "reported once");
    assertFalse(tracker.touch(1), "an expiring session cannot be revived");
    assertEquals(0, tracker.timeLeftMs(1));
    clock.advanceMs(600);
    assertEquals(List.of(2L), tracker.collectExpired());
  }

  @Test
  void aFailedExpirySubmissionIsReportedAgain() {
    tracker.add(7, 100);
    clock.advanceMs(100);
    assertEquals(List.of(7L), tracker.collectExpired());
    tracker.retryExpiry(7);
    assertEquals(List.of(7L), tracker.collectExpired());
    tracker.remove(7);
    assertEquals(0, tracker.size());
  }

  @Test
  void wallClockJumpsDoNotAffectLiveness() {
    tracker.add(3, 1_000);
    clock.setWallMs(0); // the wall clock jumps back decades
    assertEquals(List.of(), tracker.collectExpired());
    assertEquals(1_000, tracker.timeLeftMs(3));
  }
}
