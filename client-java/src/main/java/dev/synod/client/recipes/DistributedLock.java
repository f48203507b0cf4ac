package dev.synod.client.recipes;

import java.time.Duration;
import java.util.Optional;

/**
 * Something a client acquires and then holds as a {@link Lease}: a {@link Mutex}, either side of a
 * {@link SharedReadWriteLock}, or a {@link SharedSemaphore} permit. Not reentrant: every call
 * competes as a new contender, even from a thread that already holds a lease of the same lock.
 */
public interface DistributedLock {
  /**
   * Blocks until acquired.
   *
   * @throws InterruptedException if interrupted while waiting (the contender's node is deleted)
   * @throws dev.synod.client.SessionExpiredException if the session ends while waiting
   * @throws dev.synod.client.SynodException on other failures (the contender's node is deleted)
   */
  Lease acquire() throws InterruptedException;

  /**
   * Waits at most {@code timeout}; empty if not acquired in time, in which case nothing is left
   * behind on the server. A zero timeout only tries once.
   *
   * @throws InterruptedException if interrupted while waiting (the contender's node is deleted)
   */
  Optional<Lease> tryAcquire(Duration timeout) throws InterruptedException;
}
