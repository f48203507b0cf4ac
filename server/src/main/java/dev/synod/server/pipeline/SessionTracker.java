package dev.synod.server.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Local liveness of sessions: when each was last heard from. Only the node that sequences writes
 * decides expiry; it does so by submitting a close_session Txn, so the decision itself is in the
 * log. Uses monotonic time, never wall time.
 */
public final class SessionTracker {
  private static final class Liveness {
    final long timeoutNanos;
    volatile long deadlineNanos;
    volatile boolean expiring;

    Liveness(long timeoutNanos, long deadlineNanos) {
      this.timeoutNanos = timeoutNanos;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final Clock clock;
  private final ConcurrentHashMap<Long, Liveness> sessions = new ConcurrentHashMap<>();
  /** Sessions heard from since the last {@link #drainTouched}, for relaying to the leader. */
  private final Set<Long> touched = ConcurrentHashMap.newKeySet();

  public SessionTracker(Clock clock) {
    this.clock = clock;
  }

  /** Starts tracking a session with a full timeout from now. */
  public void add(long sessionId, long timeoutMs) {
    long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    sessions.put(sessionId, new Liveness(timeoutNanos, clock.monoNanos() + timeoutNanos));
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
}
