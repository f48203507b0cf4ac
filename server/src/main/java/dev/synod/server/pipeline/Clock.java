package dev.synod.server.pipeline;

/**
 * Time for the parts of the server that need it: wall time to stamp transactions, monotonic time
 * for session liveness (a wall-clock jump must never expire or extend sessions). Tests inject a
 * manual clock.
 */
public interface Clock {
  Clock SYSTEM = new Clock() {
    @Override
    public long wallMs() {
      return System.currentTimeMillis();
    }

    @Override
    public long monoNanos() {
      return System.nanoTime();
    }
  };

  long wallMs();

  long monoNanos();
}
