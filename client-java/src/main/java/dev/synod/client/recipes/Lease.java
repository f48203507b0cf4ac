package dev.synod.client.recipes;

/**
 * Ownership of a lock, a read or write lock, or a semaphore permit, held through an
 * ephemeral node of the client's session.
 *
 * <p><b>Fencing.</b> {@link #fencingToken()} is the zxid that created the holder's node. For one
 * lock, the tokens of successive holders strictly increase, so a downstream resource that
 * remembers the highest token it has accepted can reject a holder that lost the lock without
 * knowing it (a long GC pause, a partition). Pass the token with every protected write.
 *
 * <p><b>Loss.</b> A lease becomes invalid, once and for ever, and runs its {@link #onLost}
 * listeners when
 * <ul>
 *   <li>the session expires (or the client is closed, or a new session replaces it);</li>
 *   <li>its node is deleted by someone else (an operator, a recovery script);</li>
 *   <li>the client is SUSPENDED and the time for which the servers last confirmed its session
 *       ({@link dev.synod.client.SynodClient#confirmedTimeLeft()}) has run out: from then on the
 *       client cannot know whether the session is still alive, so the lease is given up rather
 *       than believed (Chubby's "jeopardy"). The majority cannot have expired the session before
 *       then, so the lease is lost before another client can take the lock. The node is deleted
 *       once a server is reachable again, if the session survived.</li>
 * </ul>
 * A short SUSPENDED state (a server failing over) does not invalidate the lease: the session and
 * its node survive it. {@link #isValid()} answers from local knowledge at once, without a round
 * trip; the fencing token is what makes a stale belief harmless.
 *
 * <p>{@link #close()} releases: the lease is invalid from the moment close is called, then its
 * node is deleted, which wakes the next waiter. Closing is idempotent and never throws.
 */
public interface Lease extends AutoCloseable {
  /** The creation zxid of the holder's node; strictly increasing across holders of one lock. */
  long fencingToken();

  /** The full path of the holder's node. */
  String nodePath();

  /** True while the lease is held: not released, not lost, and the session not in doubt. */
  boolean isValid();

  /**
   * Runs {@code listener} once if the lease is lost (not when it is released by close()); at once
   * if it is already lost. Listeners run in order on a thread of the recipe, never on a client
   * or gRPC thread; they may block briefly, but should hand long work elsewhere.
   */
  void onLost(Runnable listener);

  /** Releases the lease (deletes its node). Idempotent; never throws. */
  @Override
  void close();
}
