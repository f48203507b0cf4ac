package dev.synod.server.observe;

/**
 * What the server counts and times, as plain calls with no metrics library in sight. Production
 * uses {@link PrometheusMetrics}; the simulator and tests use {@link #NONE}, which reads no clock
 * and records nothing, so code the simulator drives (the session pipeline) stays deterministic.
 *
 * <p>Every method is thread-safe, cheap and never blocks; none may throw.
 */
public interface ServerMetrics {
  /** Records nothing and reads no clock. */
  ServerMetrics NONE = new ServerMetrics() {};

  /** The start of something timed ({@link #requestDone}, {@link #writeCommitted}); 0 in {@link #NONE}. */
  default long startNanos() {
    return 0;
  }

  /**
   * A client request was answered.
   *
   * @param api "stream" (a request on a session stream) or "unary" (a unary call)
   * @param op the operation in snake case, e.g. "create", "get_data", "open_session"
   * @param outcome "ok", or the ErrorReason's name (e.g. "NO_NODE"); a gRPC status code name for
   *     a failure that carries no reason
   * @param detail the error message, or null on success: used only for the rate-limited warning
   *     a malformed request gets (never data or secrets: error messages carry neither)
   * @param startNanos from {@link #startNanos()} when the request arrived
   */
  default void requestDone(String api, String op, String outcome, String detail, long startNanos) {}

  /** A session stream was ended by the server with {@code reason} (an ErrorReason name). */
  default void streamEnded(String reason, String detail) {}

  /** A write was applied on this server, {@code startNanos} after it was submitted here. */
  default void writeCommitted(long startNanos) {}

  /** One fsync (of a log segment, a snapshot or a directory) took {@code nanos}. */
  default void fsyncDone(long nanos) {}

  /** The leader proposed one slot holding {@code txns} transactions in {@code bytes}. */
  default void batchProposed(int txns, int bytes) {}

  /** This member started an election (it asks for promises of a new ballot). */
  default void electionStarted() {}

  /** The leader this member knows changed (to another member, to itself, or to none). */
  default void leaderChanged() {}

  /** A session expired (decided in the log, counted on every member as it applies it). */
  default void sessionExpired() {}

  /** This member wrote its own snapshot of {@code bytes} in {@code nanos}. */
  default void snapshotWritten(long nanos, long bytes) {}

  /** This member fetched and stored the leader's snapshot of {@code bytes} in {@code nanos}. */
  default void snapshotFetched(long nanos, long bytes) {}

  /** Fetching the leader's snapshot failed (it is retried). */
  default void snapshotFetchFailed() {}
}
