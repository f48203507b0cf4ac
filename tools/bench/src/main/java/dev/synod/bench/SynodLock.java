package dev.synod.bench;

import dev.synod.client.SynodClient;
import dev.synod.client.recipes.Lease;
import dev.synod.client.recipes.Mutex;

/** Synod's lock recipe ({@link Mutex}) as the lock workload uses it. */
final class SynodLock implements Session.BenchLock {
  private final Mutex mutex;
  private Lease lease;

  SynodLock(SynodClient client, String path) {
    this.mutex = new Mutex(client, path);
  }

  @Override
  public void acquire() throws InterruptedException {
    lease = mutex.acquire();
  }

  @Override
  public void release() {
    Lease held = lease;
    lease = null;
    if (held != null) {
      held.close();
    }
  }
}
