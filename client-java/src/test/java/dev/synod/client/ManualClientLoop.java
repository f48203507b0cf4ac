package dev.synod.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BooleanSupplier;

/**
 * A {@link ClientLoop} for unit tests whose clock moves only when the test says so. Tasks handed
 * over with {@link #execute} run at once on the loop's own thread (so gRPC callbacks and
 * synchronous calls work as in production); timers run only inside {@link #advance}, each at its
 * own time on the fake clock, in order. Retries, backoff, heartbeats, session timeouts and
 * deadlines are thereby driven by the test, with no real waiting.
 */
final class ManualClientLoop implements ClientLoop {
  private record Timed(long atNanos, long seq, Runnable task) implements Comparable<Timed> {
    @Override
    public int compareTo(Timed o) {
      int c = Long.compare(atNanos, o.atNanos);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final LinkedBlockingQueue<Runnable> ready = new LinkedBlockingQueue<>();
  private final TreeSet<Timed> timers = new TreeSet<>();
  private final Object idle = new Object();
  private final Thread thread;
  /** Tasks handed over and not yet finished (guarded by idle). */
  private int busy;
  private long seq;
  private volatile long nowNanos = 1_000_000_000_000L; // arbitrary origin, as System.nanoTime's
  private volatile boolean shutdown;

  ManualClientLoop() {
    thread = new Thread(this::run, "manual-client-loop");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public long nanoTime() {
    return nowNanos;
  }

  @Override
  public boolean execute(Runnable task) {
    if (shutdown) {
      return false;
    }
    synchronized (idle) {
      busy++;
    }
    ready.add(task);
    return true;
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    Timed t;
    synchronized (timers) {
      t = new Timed(nowNanos + Math.max(0, delayNanos), seq++, task);
      timers.add(t);
    }
    return () -> {
      synchronized (timers) {
        timers.remove(t);
      }
    };
  }

  @Override
  public boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void shutdown() {
    shutdown = true;
    thread.interrupt();
  }

  /**
   * Moves the clock forward by {@code d}, running every timer that falls due on the way at its
   * time, after the tasks it hands over; returns once the loop is idle.
   */
  void advance(Duration d) {
    long target = nowNanos + d.toNanos();
    while (true) {
      awaitIdle();
      Timed next;
      synchronized (timers) {
        next = timers.isEmpty() || timers.first().atNanos() - target > 0 ? null : timers.pollFirst();
      }
      if (next == null) {
        break;
      }
      if (next.atNanos() - nowNanos > 0) {
        nowNanos = next.atNanos();
      }
      execute(next.task());
    }
    nowNanos = target;
    awaitIdle();
  }

  /** Timers waiting, and when (nanoseconds from now), earliest first. */
  List<Long> pendingTimersNanos() {
    List<Long> out = new ArrayList<>();
    synchronized (timers) {
      for (Timed t : timers) {
        out.add(t.atNanos() - nowNanos);
      }
    }
    return out;
  }

  /**
   * Waits in real time (bounded) for {@code condition}, which other threads (the in-process
   * server, the channel) bring about; the fake clock does not move meanwhile.
   */
  void awaitTrue(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within 10 s of real time: " + what);
      }
      synchronized (idle) {
        try {
          idle.wait(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted", e);
        }
      }
    }
    awaitIdle();
  }

  /** Waits until every task handed over so far has run. */
  void awaitIdle() {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    synchronized (idle) {
      while (busy > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("the client loop stayed busy for 10 s");
        }
        try {
          idle.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted", e);
        }
      }
    }
  }

  private void run() {
    while (!shutdown) {
      Runnable task;
      try {
        task = ready.take();
      } catch (InterruptedException e) {
        return;
      }
      ThreadClientLoop.runLogged(task);
      synchronized (idle) {
        busy--;
        idle.notifyAll();
      }
    }
  }
}
