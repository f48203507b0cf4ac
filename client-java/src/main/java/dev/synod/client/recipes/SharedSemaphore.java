package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.ConnectionLossException;
import dev.synod.client.CreateResult;
import dev.synod.client.NoNodeException;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;

/**
 * A distributed counting semaphore: at most {@code permits} leases at a time across all clients.
 *
 * <p>Layout: {@code <path>/leases/lease-<sequence>} (one ephemeral node per held permit) and
 * {@code <path>/gate}, a {@link Mutex} that admits one acquirer at a time. Waiting without a herd:
 * acquirers queue on the gate, each watching only its predecessor there; the single acquirer
 * holding the gate creates its lease node and, while the leases outnumber the permits, watches
 * the children of {@code leases}. A released permit therefore wakes exactly one client, the
 * one at the head of the queue, instead of every waiter. (Watching "the lease N places ahead" is
 * not enough: any earlier lease can be the one released.) Each lease's fencing token is its
 * node's creation zxid. Every client must use the same {@code permits} for one path.
 */
public final class SharedSemaphore extends DeadlineLock {
  static final String LEASE = "lease-";

  private final LockQueue leases;
  private final Mutex gate;
  private final int permits;
  private final ExecutorService listenerThread;

  public SharedSemaphore(SynodClient client, String path, int permits) {
    this(client, path, permits, List.of());
  }

  /**
   * A semaphore whose nodes ({@code path} and any missing ancestor, when this creates them,
   * {@code leases}, {@code gate} and the nodes queued in them) get {@code acl} (empty: the
   * server's default ACL). Every client needs READ, CREATE and DELETE on {@code leases} and
   * {@code gate} (and so on {@code path} if it creates them) and READ on the nodes in them.
   */
  public SharedSemaphore(SynodClient client, String path, int permits, List<Acl> acl) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits must be at least 1, got " + permits);
    }
    LockQueue.validatePath(path);
    this.leases = new LockQueue(client, path + "/leases", Set.of(LEASE), acl);
    this.gate = new Mutex(client, path + "/gate", acl);
    this.permits = permits;
    this.listenerThread = RecipeThreads.idleExiting("synod-semaphore " + path);
  }

  public int permits() {
    return permits;
  }

  @Override
  Optional<Lease> attempt(long deadlineNanos) throws InterruptedException {
    Optional<Lease> admitted = deadlineNanos == Long.MAX_VALUE ? Optional.of(gate.acquire())
        : gate.tryAcquire(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())));
    if (admitted.isEmpty()) {
      return Optional.empty();
    }
    try (Lease gateLease = admitted.get()) {
      CreateResult own = leases.create(LEASE, UUID.randomUUID().toString().getBytes(UTF_8));
      boolean held = false;
      try {
        held = awaitPermit(LockQueue.nameOf(own.path()), own.stat().getEphemeralOwner(), gateLease, deadlineNanos);
        if (!held) {
          return Optional.empty();
        }
        NodeLease lease = new NodeLease(leases, own.path(), own.stat().getCzxid(), own.stat().getEphemeralOwner(),
            listenerThread);
        return Optional.<Lease>of(lease.start());
      } finally {
        if (!held) {
          leases.deleteQuietly(own.path());
        }
      }
    }
  }

  /**
   * Holding the gate, so this is the only lease not yet granted: it is granted once at most
   * {@code permits} leases exist (the others all hold permits).
   */
  private boolean awaitPermit(String ownName, long session, Lease gateLease, long deadlineNanos)
      throws InterruptedException {
    LockQueue.Wakeup wakeup = new LockQueue.Wakeup();
    ClientMonitor.Subscriber sub = signal -> wakeup.fire();
    leases.monitor.subscribe(sub);
    try {
      while (true) {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        if (leases.client.sessionId() != session || !gateLease.isValid()) {
          throw new SessionExpiredException("the session ended while waiting for a permit of " + leases.parent);
        }
        wakeup.reset();
        List<String> names;
        try {
          names = leases.client.getChildren(leases.parent, event -> wakeup.fire());
        } catch (ConnectionLossException e) {
          if (System.nanoTime() - deadlineNanos >= 0) {
            return false;
          }
          Thread.sleep(20);
          continue;
        }
        List<LockQueue.Entry> all = leases.parse(names);
        int index = LockQueue.indexOf(all, ownName);
        if (index < 0) {
          throw new NoNodeException("the lease node " + leases.pathOf(ownName) + " was deleted while waiting",
              leases.pathOf(ownName));
        }
        if (all.size() <= permits) {
          return true;
        }
        if (!wakeup.await(deadlineNanos)) {
          return false;
        }
      }
    } finally {
      leases.monitor.unsubscribe(sub);
    }
  }

  @Override
  public String toString() {
    return "SharedSemaphore[" + gate.path().substring(0, gate.path().length() - "/gate".length()) + ", " + permits + "]";
  }
}
