package dev.synod.server.sim;

import dev.synod.server.pipeline.Clock;

/**
 * One member's clocks in the whole-server simulation, derived from the simulation's global time:
 * the monotonic clock runs at the member's own rate (drift), and the wall clock follows it from
 * an offset that {@link #jump} moves forward or back, as NTP or an operator might.
 */
final class SimClock implements Clock {
  private final SimTime time;
  /** Drift in parts per million: this member's clock runs that much fast (or slow, if negative). */
  private final long driftPpm;
  private final long monoOffsetNanos;
  private long wallOffsetMs;

  SimClock(SimTime time, long driftPpm, long monoOffsetNanos, long wallOffsetMs) {
    this.time = time;
    this.driftPpm = driftPpm;
    this.monoOffsetNanos = monoOffsetNanos;
    this.wallOffsetMs = wallOffsetMs;
  }

  @Override
  public long monoNanos() {
    long t = time.nowNanos();
    return monoOffsetNanos + t + t / 1_000_000 * driftPpm;
  }

  @Override
  public long wallMs() {
    return wallOffsetMs + monoNanos() / 1_000_000;
  }

  void jump(long deltaMs) {
    wallOffsetMs += deltaMs;
  }
}
