package dev.synod.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Opens and closes a phase's sessions a few at a time, so setup is not paid one round trip each. */
final class Sessions {
  /** Sessions opened or closed concurrently. */
  private static final int PARALLELISM = 8;
  private static final long CLOSE_WAIT_S = 60;

  private Sessions() {}

  /** Opens sessions for clients {@code first .. first+count-1}; on failure closes those opened. */
  static List<Session> open(Driver driver, int first, int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM);
    List<Future<Session>> futures = new ArrayList<>();
    for (int c = first; c < first + count; c++) {
      int client = c;
      futures.add(pool.submit(() -> driver.open(client)));
    }
    pool.shutdown();
    List<Session> sessions = new ArrayList<>();
    Exception failure = null;
    for (Future<Session> f : futures) {
      try {
        sessions.add(f.get());
      } catch (Exception e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      close(sessions);
      throw failure;
    }
    return sessions;
  }

  /** Closes every session (errors are printed, not thrown: the results are already taken). */
  static void close(List<Session> sessions) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM);
    for (Session s : sessions) {
      pool.submit(() -> {
        try {
          s.close();
        } catch (Exception e) {
          System.err.println("  closing a session failed: " + e);
        }
      });
    }
    pool.shutdown();
    pool.awaitTermination(CLOSE_WAIT_S, TimeUnit.SECONDS);
  }
}
