package dev.synod.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Watch fan-out: one writer and K watchers of one key, each watcher with a session of its own
 * (spread over the servers). The writer sets the key, then waits until every watcher has seen the
 * change before the next write, so each write is one round. Reported twice: {@code watch-event},
 * the latency from the start of the write to each watcher's event, and {@code watch-all}, the
 * time until the last of the K watchers had it (what a configuration push to K processes costs).
 */
final class WatchFanOutPhase {
  static final String WATCHED = ClosedLoopPhase.ROOT + "/watched";
  /** How long a round waits for all events before it counts as an error. */
  private static final long ROUND_WAIT_MS = 5_000;
  /** Time given to watch registrations that return before the server has them (jetcd). */
  private static final long REGISTRATION_SETTLE_MS = 1_000;

  private WatchFanOutPhase() {}

  /** One write and the events it is waiting for. */
  private static final class Round {
    final long startNanos = System.nanoTime();
    final CountDownLatch pending;
    final AtomicLong lastEventNanos = new AtomicLong();

    Round(int watchers) {
      pending = new CountDownLatch(watchers);
    }
  }

  static List<PhaseResult> run(BenchOptions o, Driver driver, int watchers, ServerCpu cpu)
      throws Exception {
    byte[] value = new byte[o.valueBytes()];
    String label = o.system() + " watch watchers=" + watchers;
    Measurement rounds = new Measurement(label);
    Recorder eventMicros = new Recorder(3);
    AtomicLong events = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    Round[] current = new Round[1];
    Object lock = new Object();

    List<Session> sessions = Sessions.open(driver, 0, watchers + 1);
    List<AutoCloseable> watches = new ArrayList<>();
    Thread writer = null;
    Measurement.Window w;
    try {
      Session writerSession = sessions.get(0);
      writerSession.createIfAbsent(WATCHED, value);
      for (Session s : sessions.subList(1, sessions.size())) {
        watches.add(s.watch(WATCHED, () -> {
          long now = System.nanoTime();
          Round r;
          synchronized (lock) {
            r = current[0];
          }
          if (r == null) {
            return;
          }
          if (rounds.measuring()) {
            eventMicros.recordValue(Math.max(1, (now - r.startNanos) / 1000));
            events.incrementAndGet();
          }
          r.lastEventNanos.accumulateAndGet(now, Math::max);
          r.pending.countDown();
        }));
      }
      Thread.sleep(REGISTRATION_SETTLE_MS);
      writer = new Thread(() -> {
        while (!stop.get()) {
          Round r = new Round(watchers);
          synchronized (lock) {
            current[0] = r;
          }
          try {
            ThreadLocalRandom.current().nextBytes(value);
            writerSession.put(WATCHED, value);
            if (r.pending.await(ROUND_WAIT_MS, TimeUnit.MILLISECONDS)) {
              rounds.latency(r.lastEventNanos.get() - r.startNanos);
              rounds.countOp();
            } else {
              rounds.failure(new TimeoutException(r.pending.getCount() + " of " + watchers
                  + " watchers had no event " + ROUND_WAIT_MS + " ms after a write"));
            }
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            rounds.failure(e);
          }
        }
      }, "watch-writer");
      writer.setDaemon(true);
      writer.start();
      w = rounds.run(o.warmupS(), o.durationS(), cpu);
    } finally {
      stop.set(true);
      if (writer != null) {
        writer.join(ROUND_WAIT_MS * 2);
      }
      for (AutoCloseable watch : watches) {
        try {
          watch.close();
        } catch (Exception e) {
          System.err.println("  removing a watch failed: " + e);
        }
      }
      Sessions.close(sessions);
    }
    Histogram perEvent = eventMicros.getIntervalHistogram();
    Measurement.Window ev = new Measurement.Window(events.get(), w.seconds(), perEvent, 0,
        w.serverCpuS(), w.loadGenCpuS());
    String system = o.system().label();
    return List.of(
        new PhaseResult(system, "watch-event", watchers, ev.ops(), ev.seconds(), ev.ms(50), ev.ms(99),
            ev.ms(99.9), 0, ev.serverCpuS(), ev.loadGenCpuS()),
        new PhaseResult(system, "watch-all", watchers, w.ops(), w.seconds(), w.ms(50), w.ms(99),
            w.ms(99.9), w.errors(), w.serverCpuS(), w.loadGenCpuS()));
  }
}
