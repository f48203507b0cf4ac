package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
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

  // ---------------------------------------------------------------------------------------------
  // Confirming a session to its client (finding 12)

  static long ms(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }

  @Test
  void aLeaderConfirmsOnlyWithARecentQuorumContactAndNeverBeyondIt() {
    tracker.add(1, 3_000);
    assertEquals(new SessionTracker.Confirmation(true, 3_000), tracker.confirm(1, true, 0));
    // A majority last answered 400 ms ago: a leader elected behind our back since then starts the
    // session afresh, but not before that contact, so at most 2.6 s may be promised.
    assertEquals(new SessionTracker.Confirmation(true, 2_600), tracker.confirm(1, true, ms(400)));
    clock.advanceMs(2_000);
    assertEquals(new SessionTracker.Confirmation(true, 1_000), tracker.confirm(1, true, ms(400)),
        "nor beyond its own deadline");
    assertTrue(tracker.touch(1));
    assertEquals(new SessionTracker.Confirmation(true, 2_001), tracker.confirm(1, true, ms(999)));
    assertEquals(new SessionTracker.Confirmation(false, 0), tracker.confirm(1, true, ms(1_000)),
        "a third of the timeout without a majority: no longer confirmed");
    assertEquals(new SessionTracker.Confirmation(false, 0), tracker.confirm(1, true, Long.MAX_VALUE));
    assertEquals(new SessionTracker.Confirmation(false, 0), tracker.confirm(99, true, 0), "unknown session");
  }

  @Test
  void aSingleNodeOrFreshLeaderConfirmsItsFullDeadline() {
    tracker.add(4, 2_000);
    clock.advanceMs(500);
    assertEquals(new SessionTracker.Confirmation(true, 1_500), tracker.confirm(4, true, 0));
    clock.advanceMs(1_500);
    assertEquals(List.of(4L), tracker.collectExpired());
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(4, true, 0),
        "an expiring session is in touch but has no time left");
  }

  @Test
  void aFollowerVouchesOnlyForWhatTheLeaderAcknowledged() {
    tracker.add(1, 3_000);
    tracker.add(2, 3_000);
    assertTrue(tracker.touch(1));
    assertEquals(Long.MAX_VALUE, tracker.leaderAckAgeNanos(), "never heard from a leader");
    assertEquals(new SessionTracker.Confirmation(false, 0), tracker.confirm(1, false, tracker.leaderAckAgeNanos()));

    SessionTracker.Report report = tracker.nextReport(3);
    assertEquals(List.of(1L), report.sessionIds());
    clock.advanceMs(30);
    // The leader answers with a quorum contact 10 ms old: it was in charge from (sent - 10 ms) on.
    tracker.reportAcknowledged(3, report.reportNo(), ms(10), List.of());
    assertEquals(ms(40), tracker.leaderAckAgeNanos());
    assertEquals(new SessionTracker.Confirmation(true, 2_960), tracker.confirm(1, false, tracker.leaderAckAgeNanos()));
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(2, false, tracker.leaderAckAgeNanos()),
        "a session the leader has not heard of through us: in touch, but nothing to promise yet");

    // The client heartbeats again: what it is told still counts from the acknowledged report.
    clock.advanceMs(1_000);
    assertTrue(tracker.touch(1));
    assertEquals(3_000, tracker.timeLeftMs(1), "the local view");
    assertEquals(new SessionTracker.Confirmation(false, 0), tracker.confirm(1, false, tracker.leaderAckAgeNanos()),
        "1040 ms without an acknowledgement is over a third of the timeout");
    SessionTracker.Report next = tracker.nextReport(3);
    tracker.reportAcknowledged(3, next.reportNo(), 0, List.of());
    assertEquals(new SessionTracker.Confirmation(true, 3_000), tracker.confirm(1, false, tracker.leaderAckAgeNanos()));
  }

  @Test
  void aFollowerIgnoresAcknowledgementsItCannotTrust() {
    tracker.add(1, 3_000);
    assertTrue(tracker.touch(1));
    SessionTracker.Report toOldLeader = tracker.nextReport(2);
    tracker.reportAcknowledged(3, toOldLeader.reportNo(), 0, List.of());
    assertEquals(Long.MAX_VALUE, tracker.leaderAckAgeNanos(), "answered by a server it was not sent to");
    tracker.reportAcknowledged(2, toOldLeader.reportNo(), 0, List.of());
    assertEquals(Long.MAX_VALUE, tracker.leaderAckAgeNanos(), "already settled by the first answer");

    assertTrue(tracker.touch(1));
    SessionTracker.Report lost = tracker.nextReport(2);
    SessionTracker.Report empty = tracker.nextReport(2);
    assertEquals(List.of(), empty.sessionIds());
    tracker.reportAcknowledged(2, empty.reportNo(), 0, List.of());
    assertEquals(0, tracker.leaderAckAgeNanos(), "an empty report still measures the contact");
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(1, false, 0),
        "the report naming the session was lost");
    tracker.reportAcknowledged(2, lost.reportNo(), 0, List.of());
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(1, false, 0),
        "an answer to a report older than one already answered is not believed");

    assertTrue(tracker.touch(1));
    SessionTracker.Report leaderless = tracker.nextReport(2);
    tracker.reportAcknowledged(2, leaderless.reportNo(), Long.MAX_VALUE, List.of());
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(1, false, 0),
        "a leader without a majority vouches for nothing");
  }

  @Test
  void aSessionTheLeaderRefusesIsNoLongerVouchedFor() {
    tracker.add(1, 3_000);
    assertTrue(tracker.touch(1));
    SessionTracker.Report first = tracker.nextReport(2);
    tracker.reportAcknowledged(2, first.reportNo(), 0, List.of());
    assertEquals(new SessionTracker.Confirmation(true, 3_000), tracker.confirm(1, false, 0));
    assertTrue(tracker.touch(1));
    SessionTracker.Report second = tracker.nextReport(2);
    tracker.reportAcknowledged(2, second.reportNo(), 0, List.of(1L));
    assertEquals(new SessionTracker.Confirmation(true, 0), tracker.confirm(1, false, 0),
        "the leader is expiring it");
  }

  @Test
  void theLeaderRefreshesReportedSessionsAndNamesTheOnesItCannot() {
    tracker.add(1, 1_000);
    tracker.add(2, 1_000);
    clock.advanceMs(1_000);
    assertEquals(List.of(1L, 2L), tracker.collectExpired());
    tracker.retryExpiry(1);
    assertEquals(List.of(2L, 9L), tracker.refreshReported(List.of(1L, 2L, 9L)));
    assertEquals(1_000, tracker.timeLeftMs(1));
  }

  @Test
  void restartingASessionKeepsWhatTheLeaderAcknowledged() {
    tracker.add(1, 3_000);
    assertTrue(tracker.touch(1));
    SessionTracker.Report report = tracker.nextReport(2);
    tracker.reportAcknowledged(2, report.reportNo(), 0, List.of());
    clock.advanceMs(100);
    tracker.add(1, 3_000); // e.g. a snapshot was installed
    assertEquals(new SessionTracker.Confirmation(true, 2_900), tracker.confirm(1, false, ms(100)));
  }
}
