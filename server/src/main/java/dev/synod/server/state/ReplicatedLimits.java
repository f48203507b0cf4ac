package dev.synod.server.state;

/**
 * The limits apply itself enforces. They are constants of the state machine, not settings: apply
 * must reach the same result on every replica, so nothing it decides may depend on a member's
 * configuration (see package-info). Per-request limits that a server's settings choose (value
 * size, path length, ops per multi) are checked where a request enters, before the log; what
 * apply needs from a setting travels in the log instead (a session's dedup window, in its
 * CreateSessionTxn). Changing a constant here changes what replicas decide: upgrade all together.
 */
public final class ReplicatedLimits {
  /**
   * Longest TTL: 2^40 - 1 ms (about 34.8 years), ZooKeeper's maximum. Far beyond any real use, and
   * far enough from Long.MAX_VALUE that mtime + ttl stays meaningful (it saturates regardless).
   */
  public static final long TTL_MS_MAX = (1L << 40) - 1;

  /** The dedup window of a session whose CreateSessionTxn does not say (written before it could). */
  public static final int RECENT_RESULTS_DEFAULT = 1_024;

  /**
   * Largest dedup window apply keeps for one session, whatever its CreateSessionTxn asks: bounds
   * the memory and snapshot size a single session can claim.
   */
  public static final int RECENT_RESULTS_MAX = 100_000;

  private ReplicatedLimits() {}

  /** The window apply keeps for a session that asked for {@code requested} (0: the default). */
  static int recentResultsWindow(long requested) {
    if (requested <= 0) {
      return RECENT_RESULTS_DEFAULT;
    }
    return (int) Math.min(requested, RECENT_RESULTS_MAX);
  }
}
