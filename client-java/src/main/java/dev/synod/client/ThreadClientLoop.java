package dev.synod.client;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The production {@link ClientLoop}: one daemon thread and {@link System#nanoTime()}. */
final class ThreadClientLoop implements ClientLoop {
  private static final Logger LOG = Logger.getLogger(ThreadClientLoop.class.getName());

  private final ScheduledExecutorService executor;
  private volatile Thread thread;

  ThreadClientLoop(String threadName) {
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      thread = t;
      return t;
    });
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public boolean execute(Runnable task) {
    try {
      executor.execute(() -> runLogged(task));
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    try {
      ScheduledFuture<?> f = executor.schedule(() -> runLogged(task), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    } catch (RejectedExecutionException e) {
      return () -> { };
    }
  }

  @Override
  public boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void shutdown() {
    executor.shutdownNow();
  }

  /** Runs a loop task; one that throws is a bug, logged, and must not stop the loop. */
  static void runLogged(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "client loop task failed", e);
    }
  }
}
