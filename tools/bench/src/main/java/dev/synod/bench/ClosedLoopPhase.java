package dev.synod.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The closed-loop workloads (write, read, mixed, ephemeral, lock): each client is a thread with its
 * own session that starts its next operation as soon as the previous one has been answered.
 */
final class ClosedLoopPhase {
  /** Paths every run uses; {@link LoadGen#prepare} creates them. */
  static final String ROOT = "/bench";
  static final String KEYS = ROOT + "/keys";
  static final String EPHEMERALS = ROOT + "/eph";
  static final String LOCK = ROOT + "/lock";
  /** Share of the mixed workload's operations that are writes. */
  static final double MIXED_WRITE_SHARE = 0.10;
  private static final long JOIN_WAIT_MS = 60_000;

  private ClosedLoopPhase() {}

  static String key(int i) {
    return KEYS + "/k" + i;
  }

  /** One operation of a client; {@code client} is its index, {@code lock} its lock (LOCK only). */
  @FunctionalInterface
  private interface Op {
    void run(Session s, int client, Session.BenchLock lock) throws Exception;
  }

  static PhaseResult run(BenchOptions o, Driver driver, Workload workload, int clients, ServerCpu cpu)
      throws Exception {
    byte[] value = new byte[o.valueBytes()];
    ThreadLocalRandom.current().nextBytes(value);
    int keySpace = o.keySpace();
    Op op = switch (workload) {
      case WRITE -> (s, c, l) -> s.put(key(c), value);
      case READ -> (s, c, l) -> s.get(key(ThreadLocalRandom.current().nextInt(keySpace)));
      case LREAD -> (s, c, l) -> s.getLinearizable(key(ThreadLocalRandom.current().nextInt(keySpace)));
      case MIXED -> (s, c, l) -> {
        if (ThreadLocalRandom.current().nextDouble() < MIXED_WRITE_SHARE) {
          s.put(key(c), value);
        } else {
          s.get(key(ThreadLocalRandom.current().nextInt(keySpace)));
        }
      };
      case EPHEMERAL -> (s, c, l) -> s.delete(s.createEphemeralSequential(EPHEMERALS, value));
      case LOCK -> (s, c, l) -> {
        l.acquire();
        l.release();
      };
      case WATCH -> throw new IllegalArgumentException("watch is not a closed-loop workload");
    };
    String label = o.system() + " " + workload.id() + " clients=" + clients;
    Measurement m = new Measurement(label);
    List<Session> sessions = Sessions.open(driver, 0, clients);
    List<Thread> threads = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Measurement.Window w;
    try {
      List<Session.BenchLock> locks = new ArrayList<>();
      for (Session s : sessions) {
        locks.add(workload == Workload.LOCK ? s.lock(LOCK) : null);
      }
      for (int c = 0; c < clients; c++) {
        Session s = sessions.get(c);
        Session.BenchLock lock = locks.get(c);
        int client = c;
        Thread t = new Thread(() -> loop(m, stop, op, s, client, lock), "client-" + c);
        t.setDaemon(true);
        threads.add(t);
      }
      threads.forEach(Thread::start);
      w = m.run(o.warmupS(), o.durationS(), cpu);
    } finally {
      stop.set(true);
      for (Thread t : threads) {
        t.join(JOIN_WAIT_MS);
      }
      Sessions.close(sessions);
    }
    return new PhaseResult(o.system().label(), workload.id(), clients, w.ops(), w.seconds(), w.ms(50),
        w.ms(99), w.ms(99.9), w.errors(), w.serverCpuS(), w.loadGenCpuS());
  }

  private static void loop(Measurement m, AtomicBoolean stop, Op op, Session s, int client,
      Session.BenchLock lock) {
    while (!stop.get()) {
      long start = System.nanoTime();
      try {
        op.run(s, client, lock);
        m.success(start);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        m.failure(e);
        sleepQuietly(TimeUnit.MILLISECONDS.toNanos(10)); // no hot loop against a failing server
      }
    }
  }

  private static void sleepQuietly(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
