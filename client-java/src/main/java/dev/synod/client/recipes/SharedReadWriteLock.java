package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.SynodClient;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;

/**
 * A distributed read-write lock: any number of readers, or one writer.
 *
 * <p>Readers create {@code <path>/read-<sequence>} and writers {@code <path>/write-<sequence>}
 * ephemeral-sequential nodes; the shared sequence orders everyone. A reader holds the lock once
 * no writer is ahead of it, and meanwhile watches only the nearest writer ahead. A writer holds
 * it once it is first, and meanwhile watches only the node just before its own. So a writer is
 * never starved by readers that come after it (they queue behind it), and a release wakes only
 * those it lets through. Tokens: each lease's fencing token is its node's creation zxid; a writer's
 * token exceeds those of every reader and writer before it.
 *
 * <p>Not reentrant, and no upgrade or downgrade: a thread holding the write lock that asks for the
 * read lock waits behind itself.
 */
public final class SharedReadWriteLock {
  static final String READ = "read-";
  static final String WRITE = "write-";

  private final LockQueue queue;
  private final ExecutorService listenerThread;
  private final Side readLock;
  private final Side writeLock;

  public SharedReadWriteLock(SynodClient client, String path) {
    this(client, path, List.of());
  }

  /**
   * A read-write lock whose nodes (the lock path and any missing ancestor, when this creates them,
   * and every reader's and writer's node) get {@code acl} (empty: the server's default ACL).
   * Readers and writers alike need READ, CREATE and DELETE on the lock path and READ on the nodes.
   */
  public SharedReadWriteLock(SynodClient client, String path, List<Acl> acl) {
    this.queue = new LockQueue(client, path, Set.of(READ, WRITE), acl);
    this.listenerThread = RecipeThreads.idleExiting("synod-rwlock " + path);
    this.readLock = new Side(READ);
    this.writeLock = new Side(WRITE);
  }

  /** The shared side: held together with other readers, never with a writer. */
  public DistributedLock readLock() {
    return readLock;
  }

  /** The exclusive side. */
  public DistributedLock writeLock() {
    return writeLock;
  }

  /** The node a contender waits on, or null if it holds the lock. */
  static String blocker(LockQueue.WaitView view) {
    List<LockQueue.Entry> all = view.entries();
    if (view.self().prefix().equals(WRITE)) {
      return view.index() == 0 ? null : all.get(view.index() - 1).name();
    }
    for (int i = view.index() - 1; i >= 0; i--) {
      if (all.get(i).prefix().equals(WRITE)) {
        return all.get(i).name();
      }
    }
    return null;
  }

  private final class Side extends DeadlineLock {
    private final String prefix;
    private volatile LockQueue.WaitObserver observer = LockQueue.WaitObserver.NONE;

    Side(String prefix) {
      this.prefix = prefix;
    }

    @Override
    Optional<Lease> attempt(long deadlineNanos) throws InterruptedException {
      return Mutex.acquireIn(queue, prefix, UUID.randomUUID().toString().getBytes(UTF_8), deadlineNanos,
          observer, listenerThread, SharedReadWriteLock::blocker);
    }

    @Override
    public String toString() {
      return (prefix.equals(READ) ? "ReadLock[" : "WriteLock[") + queue.parent + "]";
    }
  }

  /** Test hook: observe the waits of one side. */
  void observeWaits(boolean write, LockQueue.WaitObserver observer) {
    (write ? writeLock : readLock).observer = observer == null ? LockQueue.WaitObserver.NONE : observer;
  }
}
