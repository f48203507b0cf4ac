package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.CreateResult;
import dev.synod.client.SynodClient;
import java.util.Optional;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * A distributed mutual-exclusion lock without herd effect.
 *
 * <p>Each contender creates an ephemeral-sequential node {@code <lockPath>/lock-<sequence>}; the
 * lowest sequence holds the lock. A waiter watches only the node just before its own and looks
 * again when that node goes, so a release wakes exactly one waiter. The lock path is created as a
 * container node when missing (and vanishes once its last contender is gone).
 *
 * <pre>{@code
 * Mutex mutex = new Mutex(client, "/locks/orders");
 * try (Lease lease = mutex.acquire()) {
 *   store.write(order, lease.fencingToken()); // the store rejects tokens older than one it saw
 * }
 * }</pre>
 *
 * <p>A Mutex object is thread-safe and may be shared; it is not reentrant (see
 * {@link DistributedLock}). What invalidates a held lease is described in {@link Lease}.
 */
public final class Mutex extends DeadlineLock {
  static final String PREFIX = "lock-";

  private final LockQueue queue;
  private final Supplier<byte[]> nodeData;
  private final ExecutorService listenerThread;
  private volatile LockQueue.WaitObserver observer = LockQueue.WaitObserver.NONE;

  /** A mutex on {@code lockPath} (e.g. {@code /locks/orders}). */
  public Mutex(SynodClient client, String lockPath) {
    this(client, lockPath, () -> UUID.randomUUID().toString().getBytes(UTF_8));
  }

  /**
   * A mutex whose nodes (the lock path and any missing ancestor, if this creates them, and each
   * attempt's node) get {@code acl} (empty: the server's default ACL). Every contender needs READ,
   * CREATE and DELETE on the lock path and READ on the attempts' nodes.
   */
  public Mutex(SynodClient client, String lockPath, List<Acl> acl) {
    this(client, lockPath, () -> UUID.randomUUID().toString().getBytes(UTF_8), acl);
  }

  /**
   * With the node data of every attempt given by {@code nodeData}; it must be unique among this
   * session's concurrent attempts (it identifies a create whose reply was lost).
   */
  Mutex(SynodClient client, String lockPath, Supplier<byte[]> nodeData) {
    this(client, lockPath, nodeData, List.of());
  }

  Mutex(SynodClient client, String lockPath, Supplier<byte[]> nodeData, List<Acl> acl) {
    this.queue = new LockQueue(client, lockPath, Set.of(PREFIX), acl);
    this.nodeData = nodeData;
    this.listenerThread = RecipeThreads.idleExiting("synod-mutex " + lockPath);
  }

  /** The lock path. */
  public String path() {
    return queue.parent;
  }

  @Override
  Optional<Lease> attempt(long deadlineNanos) throws InterruptedException {
    return acquireIn(queue, PREFIX, nodeData.get(), deadlineNanos, observer, listenerThread,
        view -> view.index() == 0 ? null : view.entries().get(view.index() - 1).name());
  }

  /**
   * The acquire protocol shared by the lock recipes: create a node, wait for {@code decide}, and
   * give the node up on timeout, interrupt or failure.
   */
  static Optional<Lease> acquireIn(LockQueue queue, String prefix, byte[] data, long deadlineNanos,
      LockQueue.WaitObserver observer, ExecutorService listenerThread,
      java.util.function.Function<LockQueue.WaitView, String> decide) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    CreateResult own = queue.create(prefix, data);
    boolean acquired = false;
    try {
      acquired = queue.awaitTurn(LockQueue.nameOf(own.path()), own.stat().getEphemeralOwner(), decide,
          deadlineNanos, observer);
      if (!acquired) {
        return Optional.empty();
      }
      NodeLease lease = new NodeLease(queue, own.path(), own.stat().getCzxid(), own.stat().getEphemeralOwner(),
          listenerThread);
      return Optional.<Lease>of(lease.start());
    } finally {
      if (!acquired) {
        queue.deleteQuietly(own.path());
      }
    }
  }

  /** Test hook: observe what waiters watch and when they wake. */
  void observeWaits(LockQueue.WaitObserver observer) {
    this.observer = observer == null ? LockQueue.WaitObserver.NONE : observer;
  }

  @Override
  public String toString() {
    return "Mutex[" + queue.parent + "]";
  }
}
