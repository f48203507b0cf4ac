package dev.synod.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands results and events from the loop to user code, so that user code never runs on (or
 * blocks) the loop: watch events and state changes in order on one thread; the futures of
 * asynchronous calls on a pool (code chained to them may block); the answer of a synchronous call
 * ({@link Direct}) straight from the loop to its waiting caller.
 */
final class Callbacks {
  private static final Logger LOG = Logger.getLogger(Callbacks.class.getName());

  private final ExecutorService events = Executors.newSingleThreadExecutor(daemon("synod-client-events"));
  private final ExecutorService futures = Executors.newCachedThreadPool(daemon("synod-client-callback"));

  /**
   * The future of a synchronous call: only its caller waits for it and nothing that could block
   * is chained to it, so it is completed on the loop itself.
   */
  static final class Direct<T> extends CompletableFuture<T> {}

  /** Runs a watcher or listener on the event thread, after every one handed over before it. */
  void deliver(Runnable userCode) {
    try {
      events.execute(() -> {
        try {
          userCode.run();
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "watcher or listener threw", e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closed: nobody listens any more
    }
  }

  /** Completes {@code f} with {@code value}, or with {@code failure} when it is not null. */
  <T> void complete(CompletableFuture<T> f, T value, Throwable failure) {
    if (f instanceof Direct) {
      // Only a waiting caller depends on it: wake it from here, without a pool hand-over.
      completeNow(f, value, failure);
      return;
    }
    try {
      futures.execute(() -> completeNow(f, value, failure));
    } catch (RejectedExecutionException e) {
      completeNow(f, value, failure);
    }
  }

  void shutdown() {
    events.shutdown();
    futures.shutdown();
  }

  private static <T> void completeNow(CompletableFuture<T> f, T value, Throwable failure) {
    if (failure != null) {
      f.completeExceptionally(failure);
    } else {
      f.complete(value);
    }
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
