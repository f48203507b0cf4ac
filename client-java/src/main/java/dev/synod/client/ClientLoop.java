package dev.synod.client;

/**
 * The client's clock and its one protocol thread, as one object so that a test's fake advances
 * both together: every protocol decision (retry backoff, heartbeats, session timeouts, request
 * deadlines) reads {@link #nanoTime()} and waits through {@link #schedule}. Production uses
 * {@link ThreadClientLoop}; unit tests use a manual loop whose time moves only when told.
 *
 * <p>Tasks run one at a time, in submission order for {@link #execute}; a task that throws is
 * logged and the loop goes on.
 */
interface ClientLoop {
  /** Monotonic time in nanoseconds (differences only; the origin is arbitrary). */
  long nanoTime();

  /** Runs {@code task} on the loop; false once the loop is shut down (the task is dropped). */
  boolean execute(Runnable task);

  /** Runs {@code task} on the loop {@code delayNanos} from now (at once when not positive). */
  Timer schedule(Runnable task, long delayNanos);

  /** Whether the calling thread is the loop's. */
  boolean inLoop();

  /** Stops running tasks; later {@link #execute} calls return false. */
  void shutdown();

  /** Runs {@code task} now when called on the loop (a stream callback), else hands it over. */
  default void executeNowOrLater(Runnable task) {
    if (inLoop()) {
      ThreadClientLoop.runLogged(task);
    } else {
      execute(task);
    }
  }

  /** A scheduled task. */
  interface Timer {
    /** Stops it from running, if it has not run yet. */
    void cancel();
  }
}
