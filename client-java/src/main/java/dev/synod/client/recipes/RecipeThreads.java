package dev.synod.client.recipes;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The threads recipes call user code on: one per recipe, never a gRPC or client thread. */
final class RecipeThreads {
  private RecipeThreads() {}

  /**
   * One thread that runs tasks in order and goes away after a few idle seconds, for recipes that
   * have no close() (a Mutex calling its leases' onLost listeners).
   */
  static ExecutorService idleExiting(String name) {
    ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemon(name));
    e.allowCoreThreadTimeOut(true);
    return e;
  }

  /** One thread with timers, for recipes with a lifecycle (start/close). */
  static ScheduledThreadPoolExecutor scheduled(String name) {
    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, daemon(name));
    e.setRemoveOnCancelPolicy(true);
    e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    return e;
  }

  static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
