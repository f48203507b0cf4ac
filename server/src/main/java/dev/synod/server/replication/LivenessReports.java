package dev.synod.server.replication;

import dev.synod.peer.v1.SessionLiveness;
import dev.synod.peer.v1.SessionLivenessAck;
import dev.synod.server.pipeline.SessionTracker;

/**
 * The liveness protocol between a follower and its leader, as messages (the loop wraps them in
 * envelopes): the follower reports the
 * sessions its clients kept alive (every few ticks, even none), the leader refreshes them and
 * acknowledges with its quorum contact, and the follower learns from the acknowledgement how far
 * it may vouch for those sessions ({@link SessionTracker#reportAcknowledged}).
 */
final class LivenessReports {
  private final SessionTracker tracker;

  LivenessReports(SessionTracker tracker) {
    this.tracker = tracker;
  }

  /** Follower: the next report, for {@code leaderId}. */
  SessionLiveness report(int leaderId) {
    SessionTracker.Report r = tracker.nextReport(leaderId);
    return SessionLiveness.newBuilder().setReportNo(r.reportNo()).addAllSessionIds(r.sessionIds()).build();
  }

  /** Leader (only): refreshes the reported sessions and answers with the acknowledgement. */
  SessionLivenessAck answer(SessionLiveness report, long quorumContactAgeNanos) {
    return SessionLivenessAck.newBuilder()
        .setReportNo(report.getReportNo())
        .setQuorumContactAgeNanos(quorumContactAgeNanos)
        .addAllRefused(tracker.refreshReported(report.getSessionIdsList()))
        .build();
  }

  /** Follower: the leader {@code from} acknowledged one of our reports. */
  void acknowledged(int from, SessionLivenessAck ack) {
    tracker.reportAcknowledged(from, ack.getReportNo(), ack.getQuorumContactAgeNanos(), ack.getRefusedList());
  }
}
