package dev.synod.client;

import java.util.concurrent.TimeUnit;

/**
 * What the client knows of its session's life, and the rules built on it; no threads and no clock
 * of its own (every method takes the time), so tests step it through any history.
 *
 * <p>Only the cluster's leader expires sessions, so silence is not the only danger: a server cut
 * off from the leader may keep answering while the majority expires the session. A heartbeat
 * reply is therefore trusted only when the server says it is confirmed (in touch with the
 * leader), and then only for the time left it reports, counted from when the heartbeat was sent.
 * Below a sixth of the timeout confirmed the client is SUSPENDED and moves to another server.
 *
 * <p>The servers count the time left on their clocks, the client on its own; clocks run at
 * slightly different rates (crystal oscillators are specified within about 100 ppm). Every span a
 * server vouches for is therefore shortened by {@link #CLOCK_RATE_ERROR_PPM} before the client
 * relies on it, so that a client whose clock runs slow never believes its session outlives the
 * leader's count.
 */
final class Liveness {
  /** What a tick should do about the current stream. */
  record Check(Action action, String why) {
    static final Check NOTHING = new Check(Action.NOTHING, "");
    static final Check HEARTBEAT = new Check(Action.HEARTBEAT, "");
  }

  enum Action { NOTHING, HEARTBEAT, MOVE_ON }

  /** The rate error assumed between the client's clock and the leader's, in parts per million. */
  static final long CLOCK_RATE_ERROR_PPM = 1_000;

  private long timeoutMs;
  private long lastHeardNanos;
  /** Until when a server in touch with the leader has vouched for the session. */
  private long confirmedUntilNanos;

  Liveness(long timeoutMs, long nowNanos) {
    this.timeoutMs = timeoutMs;
    this.lastHeardNanos = nowNanos;
    this.confirmedUntilNanos = nowNanos;
  }

  long timeoutMs() {
    return timeoutMs;
  }

  /** The server's word on the timeout (negotiated when the session opened or resumed). */
  void timeoutMs(long ms) {
    this.timeoutMs = ms;
  }

  /** Any message from a server. */
  void heard(long nowNanos) {
    lastHeardNanos = nowNanos;
  }

  long sinceHeardNanos(long nowNanos) {
    return nowNanos - lastHeardNanos;
  }

  /**
   * A new session, requested at {@code requestedNanos}: created through the log after that, so the
   * leader started its full timeout later.
   */
  void opened(long requestedNanos) {
    confirmedUntilNanos = requestedNanos + withRateMargin(timeoutNanos());
  }

  /** A span a server's clock measured, as the client's clock may measure it at the least. */
  static long withRateMargin(long spanNanos) {
    return spanNanos - spanNanos / (1_000_000 / CLOCK_RATE_ERROR_PPM);
  }

  /** A confirmed heartbeat reply leaving {@code timeLeftMs}, for a heartbeat sent at {@code sentNanos}. */
  void confirmed(long sentNanos, long timeLeftMs) {
    if (sentNanos == SessionStream.NOT_SENT || timeLeftMs <= 0) {
      return;
    }
    // From the send time: the server's count started later, so this never overstates it.
    long until = sentNanos + withRateMargin(TimeUnit.MILLISECONDS.toNanos(timeLeftMs));
    if (until - confirmedUntilNanos > 0) {
      confirmedUntilNanos = until;
    }
  }

  /** The session ended: nothing is confirmed any more. */
  void ended(long nowNanos) {
    confirmedUntilNanos = nowNanos;
  }

  long confirmedLeftNanos(long nowNanos) {
    return Math.max(0, confirmedUntilNanos - nowNanos);
  }

  /** Enough stays confirmed to count as connected. */
  boolean enoughConfirmed(long nowNanos) {
    return confirmedUntilNanos - nowNanos >= suspendMarginNanos();
  }

  /** No server heard from for longer than the timeout: the session is gone for certain. */
  boolean expiredLocally(long nowNanos) {
    return nowNanos - lastHeardNanos > timeoutNanos();
  }

  /** Ticks at a twelfth of the timeout (10 to 100 ms). */
  long tickMs() {
    return Math.max(10, Math.min(100, timeoutMs / 12));
  }

  /**
   * Moves on from a server that has gone silent (two thirds of the timeout), or that leaves the
   * session unconfirmed too long: under a sixth of the timeout confirmed while connected, or a
   * third of the timeout after a resume without confirmation. Otherwise heartbeats: every third of
   * the timeout, and every tick while less than a third stays confirmed (a follower vouches for a
   * session only once the leader has heard of it, a moment after the heartbeat that told it).
   */
  Check check(long nowNanos, SessionStream s, ConnectionState state) {
    long timeoutNanos = timeoutNanos();
    long confirmedNanos = confirmedUntilNanos - nowNanos;
    boolean connected = state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED;
    if (nowNanos - lastHeardNanos > timeoutNanos * 2 / 3) {
      return new Check(Action.MOVE_ON, "no message from " + s.server + " for " + (timeoutMs * 2 / 3) + " ms");
    }
    if (connected && confirmedNanos < suspendMarginNanos()) {
      return new Check(Action.MOVE_ON, s.server + " has left the session unconfirmed ("
          + Math.max(0, confirmedNanos / 1_000_000) + " ms of " + timeoutMs + " left)");
    }
    if (state == ConnectionState.SUSPENDED && nowNanos - s.openedNanos > timeoutNanos / 3) {
      return new Check(Action.MOVE_ON, s.server + " did not confirm the resumed session within " + timeoutMs / 3 + " ms");
    }
    long sinceHeartbeat = nowNanos - s.lastHeartbeatNanos;
    if (sinceHeartbeat >= timeoutNanos / 3
        || (confirmedNanos < timeoutNanos / 3 && sinceHeartbeat >= TimeUnit.MILLISECONDS.toNanos(tickMs()))) {
      return Check.HEARTBEAT;
    }
    return Check.NOTHING;
  }

  private long timeoutNanos() {
    return TimeUnit.MILLISECONDS.toNanos(timeoutMs);
  }

  private long suspendMarginNanos() {
    return timeoutNanos() / 6;
  }
}
