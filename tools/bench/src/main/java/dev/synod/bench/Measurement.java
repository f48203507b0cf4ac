package dev.synod.bench;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a phase's clients record into (latency, operations, errors) and the phase's clock:
 * a warm-up whose numbers are thrown away, then a measured window with a progress line per second
 * on stderr. Only events recorded while {@link #measuring()} count.
 */
final class Measurement {
  /** Errors printed in full per phase; the rest are only counted. */
  private static final int ERRORS_SHOWN_MAX = 3;

  private final String label;
  private final Recorder latencyMicros = new Recorder(3);
  private final AtomicLong ops = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong errorsShown = new AtomicLong();
  private volatile boolean measuring;

  Measurement(String label) {
    this.label = label;
  }

  boolean measuring() {
    return measuring;
  }

  /** Records one operation that started at {@code startNanos} and has just finished. */
  void success(long startNanos) {
    if (measuring) {
      ops.incrementAndGet();
      latencyMicros.recordValue(Math.max(1, (System.nanoTime() - startNanos) / 1000));
    }
  }

  /** Records a latency without counting an operation (an operation made of several events). */
  void latency(long nanos) {
    if (measuring) {
      latencyMicros.recordValue(Math.max(1, nanos / 1000));
    }
  }

  void countOp() {
    if (measuring) {
      ops.incrementAndGet();
    }
  }

  void failure(Throwable t) {
    if (measuring) {
      errors.incrementAndGet();
    }
    if (errorsShown.incrementAndGet() <= ERRORS_SHOWN_MAX) {
      System.err.println("  [" + label + "] error: " + t);
    }
  }

  /** The phase's measured numbers, for a {@link PhaseResult}. */
  record Window(long ops, double seconds, Histogram latencyMicros, long errors, double serverCpuS,
      double loadGenCpuS) {
    double ms(double percentile) {
      return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  /** Sleeps through the warm-up, then measures for {@code durationS} seconds. */
  Window run(int warmupS, int durationS, ServerCpu cpu) throws InterruptedException {
    Thread.sleep(TimeUnit.SECONDS.toMillis(warmupS));
    latencyMicros.reset();
    ops.set(0);
    errors.set(0);
    double serverCpu0 = cpu.serverSeconds();
    double loadGenCpu0 = ServerCpu.loadGeneratorSeconds();
    long start = System.nanoTime();
    measuring = true;
    long end = start + TimeUnit.SECONDS.toNanos(durationS);
    long lastOps = 0;
    while (true) {
      long now = System.nanoTime();
      if (now >= end) {
        break;
      }
      Thread.sleep(Math.min(1000, TimeUnit.NANOSECONDS.toMillis(end - now) + 1));
      long done = ops.get();
      System.err.printf(Locale.ROOT, "  [%s] %4.0f/%d s  ops=%d  last second=%d/s  errors=%d%n", label,
          (System.nanoTime() - start) / 1e9, durationS, done, done - lastOps, errors.get());
      lastOps = done;
    }
    measuring = false;
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Window(ops.get(), seconds, latencyMicros.getIntervalHistogram(), errors.get(),
        cpu.serverSeconds() - serverCpu0, ServerCpu.loadGeneratorSeconds() - loadGenCpu0);
  }
}
