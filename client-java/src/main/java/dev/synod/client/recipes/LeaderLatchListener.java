package dev.synod.client.recipes;

/**
 * Told when a {@link LeaderLatch} gains or loses leadership; called in order on the latch's own
 * thread (never a client or gRPC thread). A slow listener delays the latch's reaction to later
 * changes, so hand long work elsewhere.
 */
public interface LeaderLatchListener {
  /** This participant is now the leader; stamp {@code fencingToken} on every leader-only write. */
  void isLeader(long fencingToken);

  /** This participant is no longer the leader (closed, session expired, jeopardy, node deleted). */
  void notLeader();
}
