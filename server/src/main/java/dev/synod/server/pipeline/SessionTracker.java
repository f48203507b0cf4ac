package dev.synod.server.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Local liveness of sessions: when each was last heard from. Only the node that sequences writes
 * decides expiry; it does so by submitting a close_session Txn, so the decision itself is in the
 * log. Uses monotonic time, never wall time.
 *
 * <p>A follower also keeps what the leader has acknowledged hearing of each session through it
 * (its liveness reports and their acknowledgements), because that, not its own local view, is
 * what it may vouch for to a client: see {@link #confirm}.
 */
public final class SessionTracker {
  /** Reports kept awaiting their acknowledgement; older ones count as lost (which is safe). */
  static final int REPORTS_UNACKED_MAX = 256;
  /** A leader's quorum contact older than this (or unknown) makes its acknowledgement worthless. */
  static final long CONTACT_AGE_CREDIBLE_MAX_NANOS = TimeUnit.HOURS.toNanos(1);
  /** "The leader has not acknowledged anything yet" (a monotonic time no clock reads). */
  private static final long NEVER = Long.MIN_VALUE;

  private static final class Liveness {
    final long timeoutNanos;
    volatile long deadlineNanos;
    volatile boolean expiring;
    /** Follower: when the leader last heard of this session through us, at the latest; or NEVER. */
    volatile long leaderHeardNanos = NEVER;

    Liveness(long timeoutNanos, long deadlineNanos) {
      this.timeoutNanos = timeoutNanos;
      this.deadlineNanos = deadlineNanos;
    }
  }

  /** A liveness report to send to the leader. */
  public record Report(long reportNo, List<Long> sessionIds) {}

  private record SentReport(long reportNo, int leaderId, long sentNanos, List<Long> sessionIds) {}

  /** What a server may tell a client about its session (HeartbeatReply in synod.proto). */
  public record Confirmation(boolean confirmed, long timeLeftMs) {
    static final Confirmation NOT_CONFIRMED = new Confirmation(false, 0);
  }

  private final Clock clock;
  private final ConcurrentHashMap<Long, Liveness> sessions = new ConcurrentHashMap<>();
  /** Sessions heard from since the last {@link #drainTouched}, for relaying to the leader. */
  private final Set<Long> touched = ConcurrentHashMap.newKeySet();
  /** Reports sent and not yet acknowledged, oldest first (guarded by itself). */
  private final ArrayDeque<SentReport> unacked = new ArrayDeque<>();
  private long nextReportNo = 1; // guarded by unacked
  /** Follower: the latest time the leader is known to have been in charge and heard from us. */
  private volatile long leaderContactNanos = NEVER;

  public SessionTracker(Clock clock) {
    this.clock = clock;
  }

  /**
   * Starts tracking a session with a full timeout from now (or restarts it: a new leader does so
   * for every session). What the leader acknowledged of it is kept: that stays a valid lower bound.
   */
  public void add(long sessionId, long timeoutMs) {
    long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    Liveness l = new Liveness(timeoutNanos, clock.monoNanos() + timeoutNanos);
    Liveness old = sessions.put(sessionId, l);
    if (old != null) {
      l.leaderHeardNanos = old.leaderHeardNanos;
    }
  }

  /** Records that the session was heard from. False when it is unknown or already expiring. */
  public boolean touch(long sessionId) {
    Liveness l = sessions.get(sessionId);
    if (l == null || l.expiring) {
      return false;
    }
    l.deadlineNanos = clock.monoNanos() + l.timeoutNanos;
    touched.add(sessionId);
    return true;
  }

  /** The sessions heard from since the previous call, sorted; a follower relays them. */
  public List<Long> drainTouched() {
    List<Long> out = new ArrayList<>(touched);
    touched.removeAll(out);
    out.sort(null);
    return out;
  }

  /** Time before the session expires as seen now; 0 when unknown or expiring. */
  public long timeLeftMs(long sessionId) {
    Liveness l = sessions.get(sessionId);
    if (l == null || l.expiring) {
      return 0;
    }
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(l.deadlineNanos - clock.monoNanos()));
  }

  public void remove(long sessionId) {
    sessions.remove(sessionId);
  }

  /**
   * Sessions whose deadline has passed and that were not reported before; each is reported once
   * and marked expiring (call {@link #retryExpiry} if the close could not be submitted).
   */
  public List<Long> collectExpired() {
    long now = clock.monoNanos();
    List<Long> expired = new ArrayList<>();
    sessions.forEach((id, l) -> {
      if (!l.expiring && now - l.deadlineNanos >= 0) {
        l.expiring = true;
        expired.add(id);
      }
    });
    expired.sort(null);
    return expired;
  }

  public void retryExpiry(long sessionId) {
    Liveness l = sessions.get(sessionId);
    if (l != null) {
      l.expiring = false;
    }
  }

  public int size() {
    return sessions.size();
  }

  // ---------------------------------------------------------------------------------------------
  // Liveness reports (a follower to its leader) and what their acknowledgements teach

  /**
   * A follower's next report to {@code leaderId}: the sessions heard from since the last one
   * (possibly none: an empty report still earns an acknowledgement, which keeps the follower's
   * contact with the leader measured).
   */
  public Report nextReport(int leaderId) {
    List<Long> ids = drainTouched();
    synchronized (unacked) {
      SentReport sent = new SentReport(nextReportNo++, leaderId, clock.monoNanos(), List.copyOf(ids));
      unacked.add(sent);
      while (unacked.size() > REPORTS_UNACKED_MAX) {
        unacked.poll();
      }
      return new Report(sent.reportNo(), sent.sessionIds());
    }
  }

  /**
   * Leader: refreshes the sessions of a follower's report; returns those it cannot (unknown or
   * already expiring), which the follower must stop vouching for.
   */
  public List<Long> refreshReported(Collection<Long> sessionIds) {
    List<Long> refused = new ArrayList<>();
    for (long id : sessionIds) {
      if (!touch(id)) {
        refused.add(id);
      }
    }
    return refused;
  }

  /**
   * Follower: {@code leaderId}, while leading, refreshed report {@code reportNo} (all but
   * {@code refused}) and had a majority's acknowledgement {@code quorumContactAgeNanos} before it
   * answered. The report was sent at s and answered after s, so the leader was in charge and in
   * touch with a majority at s - age or later: no leader elected after that can expire these
   * sessions before s - age + their timeout (it starts each one afresh), and this one will not
   * before s + timeout. Earlier unacknowledged reports are taken as lost.
   */
  public void reportAcknowledged(int leaderId, long reportNo, long quorumContactAgeNanos,
      Collection<Long> refused) {
    SentReport report = null;
    synchronized (unacked) {
      while (!unacked.isEmpty() && unacked.peek().reportNo() <= reportNo) {
        SentReport r = unacked.poll();
        if (r.reportNo() == reportNo) {
          report = r;
        }
      }
    }
    if (report == null || report.leaderId() != leaderId) {
      return; // already acknowledged, long forgotten, or answered by a server it was not sent to
    }
    if (quorumContactAgeNanos < 0 || quorumContactAgeNanos > CONTACT_AGE_CREDIBLE_MAX_NANOS) {
      return; // a leader without a majority for that long vouches for nothing
    }
    long heardNanos = report.sentNanos() - quorumContactAgeNanos;
    if (leaderContactNanos == NEVER || heardNanos - leaderContactNanos > 0) {
      leaderContactNanos = heardNanos;
    }
    for (long id : report.sessionIds()) {
      Liveness l = sessions.get(id);
      if (l != null && (l.leaderHeardNanos == NEVER || heardNanos - l.leaderHeardNanos > 0)) {
        l.leaderHeardNanos = heardNanos;
      }
    }
    for (long id : refused) {
      Liveness l = sessions.get(id);
      if (l != null) {
        l.leaderHeardNanos = NEVER; // the leader is expiring it (or never knew it): vouch no more
      }
    }
  }

  /**
   * Follower: how long ago the leader was last known to be in charge and in touch with this server
   * (by its acknowledgement of a report); {@link Long#MAX_VALUE} if never.
   */
  public long leaderAckAgeNanos() {
    long contact = leaderContactNanos;
    return contact == NEVER ? Long.MAX_VALUE : Math.max(0, clock.monoNanos() - contact);
  }

  // ---------------------------------------------------------------------------------------------
  // Confirming a session to its client

  /**
   * What this server may tell the client of {@code sessionId}. Confirmed only while this server's
   * contact with the leader ({@code leading}: of this server with a majority; following: the
   * leader's latest acknowledgement) is younger than a third of the session's timeout: a server
   * cut off from the majority stops confirming well before the majority may expire the session,
   * so its client goes SUSPENDED and moves on in time (as a ZooKeeper follower that loses its
   * leader drops its clients).
   *
   * <p>The time left never exceeds what the leader itself allows. Leading: its own deadline, and
   * the last quorum contact plus the timeout (a leader elected behind its back starts every
   * session afresh, but not before that contact). Following: the leader's latest
   * acknowledgement of the session through this server plus the timeout (0 while there is none,
   * e.g. just after the client moved here).
   *
   * @param contactAgeNanos from {@link WritePipeline#leaderContact()}
   */
  public Confirmation confirm(long sessionId, boolean leading, long contactAgeNanos) {
    Liveness l = sessions.get(sessionId);
    if (l == null || contactAgeNanos < 0 || contactAgeNanos >= l.timeoutNanos / 3) {
      return Confirmation.NOT_CONFIRMED;
    }
    if (l.expiring) {
      return new Confirmation(true, 0);
    }
    long now = clock.monoNanos();
    long deadline = l.deadlineNanos;
    if (leading) {
      long contactDeadline = now - contactAgeNanos + l.timeoutNanos; // no overflow: age < timeout
      deadline = deadline - contactDeadline < 0 ? deadline : contactDeadline;
    } else {
      long heard = l.leaderHeardNanos;
      if (heard == NEVER) {
        return new Confirmation(true, 0);
      }
      long leaderDeadline = heard + l.timeoutNanos;
      deadline = deadline - leaderDeadline < 0 ? deadline : leaderDeadline;
    }
    return new Confirmation(true, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - now)));
  }
}
