package dev.synod.server.replication;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.SessionLiveness;
import dev.synod.peer.v1.SessionLivenessAck;
import dev.synod.server.pipeline.SessionTracker;

/**
 * The liveness protocol between a follower and its leader, in envelopes: the follower reports the
 * sessions its clients kept alive (every few ticks, even none), the leader refreshes them and
 * acknowledges with its quorum contact, and the follower learns from the acknowledgement how far
 * it may vouch for those sessions ({@link SessionTracker#reportAcknowledged}).
 */
final class LivenessReports {
  private final int selfId;
  private final SessionTracker tracker;

  LivenessReports(int selfId, SessionTracker tracker) {
    this.selfId = selfId;
    this.tracker = tracker;
  }

  /** Follower: the next report, for {@code leaderId}. */
  PeerEnvelope report(int leaderId) {
    SessionTracker.Report r = tracker.nextReport(leaderId);
    return PeerEnvelope.newBuilder().setFrom(selfId)
        .setLiveness(SessionLiveness.newBuilder().setReportNo(r.reportNo()).addAllSessionIds(r.sessionIds()))
        .build();
  }

  /** Leader (only): refreshes the reported sessions and answers with the acknowledgement. */
  PeerEnvelope answer(SessionLiveness report, long quorumContactAgeNanos) {
    SessionLivenessAck.Builder ack = SessionLivenessAck.newBuilder()
        .setReportNo(report.getReportNo())
        .setQuorumContactAgeNanos(quorumContactAgeNanos)
        .addAllRefused(tracker.refreshReported(report.getSessionIdsList()));
    return PeerEnvelope.newBuilder().setFrom(selfId).setLivenessAck(ack).build();
  }

  /** Follower: the leader {@code from} acknowledged one of our reports. */
  void acknowledged(int from, SessionLivenessAck ack) {
    tracker.reportAcknowledged(from, ack.getReportNo(), ack.getQuorumContactAgeNanos(), ack.getRefusedList());
  }
}
