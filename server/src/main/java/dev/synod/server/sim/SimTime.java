package dev.synod.server.sim;

/** The simulation's global time: moved only by the simulator, from one event to the next. */
final class SimTime {
  private long nowNanos;

  long nowNanos() {
    return nowNanos;
  }

  void advanceTo(long nanos) {
    if (nanos > nowNanos) {
      nowNanos = nanos;
    }
  }
}
