package dev.synod.server.pipeline;

import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.Txn;

/**
 * The one way a write reaches the state: it is sequenced (zxid and time stamped), made durable,
 * and applied, in submission order. A single node sequences and persists itself
 * ({@link LocalSequencer}); a replicated node puts consensus in the same place. Either way every
 * replica applies the same Txns through the same apply path.
 */
public interface WritePipeline {
  /**
   * Queues a write. The Txn carries the op, session id and request number; the pipeline stamps
   * zxid and time (and, for create_session, the session id and secret).
   *
   * @throws SynodException OVERLOADED when the queue is full, SHUTTING_DOWN or STORAGE_FAILURE
   *     when the pipeline no longer accepts writes
   */
  void submit(Txn.Builder txn, Applied onApplied) throws SynodException;

  /**
   * A linearizable barrier: once every write submitted here before this call has been applied,
   * and this server has applied everything the cluster had decided when the barrier was issued
   * (confirmed with a quorum), calls {@code done} with the last applied zxid; or with an error
   * (LEADER_UNAVAILABLE, SHUTTING_DOWN) when that cannot be established in time. Same thread
   * rules as {@link Applied}.
   */
  void barrier(BarrierDone done) throws SynodException;

  /** Whether this server currently leads (and so decides session expiry and TTL deletion). */
  boolean isLeader();

  /**
   * How fresh this server's tie to the leader is, on its monotonic clock, for confirming sessions
   * to clients ({@link SessionTracker#confirm}). Leading: since a majority last acknowledged it (0
   * for a cluster of one). Following: since the leader last acknowledged a liveness report of this
   * server (taking off the leader's own quorum contact age). {@link Long#MAX_VALUE} when unknown.
   * Any thread.
   */
  LeaderContact leaderContact();

  /** @param ageNanos see {@link #leaderContact()} */
  record LeaderContact(boolean leading, long ageNanos) {}

  /** Told when a barrier completes: {@code error} is null on success. */
  @FunctionalInterface
  interface BarrierDone {
    void done(long zxid, dev.synod.api.v1.Error error);
  }
}
