package dev.synod.client.recipes;

import dev.synod.api.v1.Acl;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.List;

/**
 * A barrier that holds waiters back while its node exists: one process {@link #setBarrier() sets}
 * it, any number {@link #waitOnBarrier(Duration) wait} until someone {@link #removeBarrier()
 * removes} it. The node is persistent, so the barrier outlives the process that set it.
 *
 * <p>Waiting costs one exists-watch per wakeup, no polling. A waiter whose session expires gets
 * {@link dev.synod.client.SessionExpiredException} rather than sleeping until its deadline (a
 * one-shot watch dies with its session); with {@code reconnectAfterExpiry} it simply goes on
 * waiting on the new session.
 */
public final class DistributedBarrier {
  private final SynodClient client;
  private final String path;
  private final List<Acl> acl;

  public DistributedBarrier(SynodClient client, String barrierPath) {
    this(client, barrierPath, List.of());
  }

  /**
   * A barrier whose node (and any missing ancestor {@link #setBarrier()} creates) gets {@code acl}
   * (empty: the server's default ACL). Whoever removes the barrier needs DELETE on its parent, so
   * only an ACL on a parent this barrier created keeps others from removing it.
   */
  public DistributedBarrier(SynodClient client, String barrierPath, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
    this.path = RecipeNodes.requirePath(barrierPath, "barrierPath");
    this.acl = RecipeNodes.requireAcl(acl);
  }

  /** Raises the barrier (creating missing parents); idempotent. */
  public void setBarrier() {
    RecipeNodes.ensurePath(client, RecipeNodes.parentOf(path), acl);
    try {
      client.create(path, new byte[0], CreateOptions.PERSISTENT.withAcl(acl));
    } catch (NodeExistsException already) {
      // already set
    }
  }

  /** Lowers the barrier, releasing every waiter; idempotent. */
  public void removeBarrier() {
    try {
      client.delete(path, -1);
    } catch (NoNodeException already) {
      // already removed
    }
  }

  /** Whether the barrier is currently set. */
  public boolean isSet() {
    return client.exists(path) != null;
  }

  /** Blocks until the barrier is removed (returns at once if it is not set). */
  public void waitOnBarrier() throws InterruptedException {
    waitOnBarrier(null);
  }

  /**
   * Blocks until the barrier is removed or {@code timeout} passes (null: no limit).
   *
   * @return true if the barrier is down, false on timeout
   */
  public boolean waitOnBarrier(Duration timeout) throws InterruptedException {
    long deadline = Wakeup.deadline(timeout);
    try (Wakeup wakeup = new Wakeup(client)) {
      while (client.exists(path, wakeup) != null) {
        if (!wakeup.await(deadline)) {
          return false;
        }
      }
      return true;
    }
  }

  public String path() {
    return path;
  }
}
