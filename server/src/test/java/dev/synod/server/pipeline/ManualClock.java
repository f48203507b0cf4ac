package dev.synod.server.pipeline;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand. */
final class ManualClock implements Clock {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicLong wall = new AtomicLong(1_700_000_000_000L);

  void advanceMs(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    wall.addAndGet(ms);
  }

  void setWallMs(long ms) {
    wall.set(ms);
  }

  @Override
  public long wallMs() {
    return wall.get();
  }

  @Override
  public long monoNanos() {
    return nanos.get();
  }
}
