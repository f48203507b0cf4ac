package dev.synod.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.NodeKind;
import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mutex against one real server over loopback. */
class MutexTest {
  @TempDir static Path dir;
  static RecipeTestCluster server;
  static SynodClient a;
  static SynodClient b;

  @BeforeAll
  static void start() throws Exception {
    server = RecipeTestCluster.start(dir, 1);
    a = connect(server);
    b = connect(server);
  }

  static SynodClient connect(RecipeTestCluster cluster) throws InterruptedException {
    SynodClient c = SynodClient.builder().connectString(cluster.connectString())
        .sessionTimeout(Duration.ofSeconds(5)).build().start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
    return c;
  }

  @AfterAll
  static void stop() {
    b.close();
    a.close();
    server.close();
  }

  @Test
  void excludesAndTokensIncreaseAndATimedOutAttemptLeavesNothing() throws Exception {
    Mutex ma = new Mutex(a, "/apps/x/lock");
    Mutex mb = new Mutex(b, "/apps/x/lock");
    Lease first = ma.acquire();
    assertTrue(first.isValid());
    assertTrue(first.nodePath().startsWith("/apps/x/lock/lock-"), first.nodePath());
    assertEquals(first.fencingToken(), b.exists(first.nodePath()).getCzxid());
    assertEquals(NodeKind.CONTAINER, b.exists("/apps/x/lock").getKind());
    assertEquals(NodeKind.CONTAINER, b.exists("/apps").getKind());

    long t0 = System.nanoTime();
    assertEquals(Optional.empty(), mb.tryAcquire(Duration.ofMillis(200)));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(200));
    assertEquals(Optional.empty(), mb.tryAcquire(Duration.ZERO));
    assertEquals(List.of(LockQueue.nameOf(first.nodePath())), b.getChildren("/apps/x/lock"),
        "a timed-out attempt leaves no node behind");

    first.close();
    assertFalse(first.isValid());
    first.close(); // idempotent
    Lease second = mb.tryAcquire(Duration.ofSeconds(5)).orElseThrow();
    assertTrue(second.fencingToken() > first.fencingToken());
    second.close();
    // The containers go with their last child.
    assertNull(a.exists("/apps/x/lock"));
  }

  @Test
  void aLateReportOfTheSameSessionDoesNotCostALease() throws Exception {
    // The client's first CONNECTED may reach a monitor created right after blockUntilConnected();
    // it is the session the lease was taken in, not a new one.
    try (SynodClient fresh = connect(server)) {
      Lease lease = new Mutex(fresh, "/late-connected").acquire();
      ClientMonitor.of(fresh).stateChanged(fresh, dev.synod.client.ConnectionState.CONNECTED);
      assertTrue(lease.isValid(), "the same session reported again keeps the lease");
      assertTrue(a.exists(lease.nodePath()) != null);
      lease.close();
    }
  }

  @Test
  void interruptedWaiterDeletesItsNode() throws Exception {
    Mutex ma = new Mutex(a, "/interrupt");
    Mutex mb = new Mutex(b, "/interrupt");
    try (Lease held = ma.acquire()) {
      CountDownLatch waiting = new CountDownLatch(1);
      mb.observeWaits(new LockQueue.WaitObserver() {
        @Override
        public void watching(String ownNode, String watchedNode) {
          waiting.countDown();
        }
      });
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<Lease> f = pool.submit(mb::acquire);
      assertTrue(waiting.await(5, TimeUnit.SECONDS));
      assertEquals(2, a.getChildren("/interrupt").size());
      pool.shutdownNow(); // interrupts the waiter
      assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
      assertTrue(f.isDone());
      assertEquals(List.of(LockQueue.nameOf(held.nodePath())), a.getChildren("/interrupt"));
    }
  }

  @Test
  void releaseWakesOnlyTheNextWaiterAndEachWatchesItsPredecessor() throws Exception {
    int waiters = 5;
    Mutex holder = new Mutex(a, "/herd");
    Lease held = holder.acquire();
    Map<String, String> watched = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> wakeups = new ConcurrentHashMap<>();
    Mutex shared = new Mutex(b, "/herd");
    shared.observeWaits(new LockQueue.WaitObserver() {
      @Override
      public void watching(String ownNode, String watchedNode) {
        watched.put(ownNode, watchedNode);
      }

      @Override
      public void woken(String ownNode) {
        wakeups.computeIfAbsent(ownNode, k -> new AtomicInteger()).incrementAndGet();
      }
    });
    ExecutorService pool = Executors.newFixedThreadPool(waiters);
    try {
      List<Future<Lease>> futures = new ArrayList<>();
      for (int i = 0; i < waiters; i++) {
        futures.add(pool.submit(shared::acquire));
      }
      Eventually.eventually(Duration.ofSeconds(10), "watched.size() >= waiters", () -> watched.size() >= waiters);
      List<String> queue = a.getChildren("/herd").stream().sorted().toList();
      assertEquals(waiters + 1, queue.size());
      for (int i = 1; i < queue.size(); i++) {
        assertEquals(queue.get(i - 1), watched.get(queue.get(i)), "waiter " + queue.get(i) + " watches its predecessor");
      }
      Lease previous = held;
      for (int i = 1; i <= waiters; i++) {
        previous.close();
        Lease next = null;
        for (Future<Lease> f : futures) {
          if (f.isDone() || waitDone(f, 50)) {
            Lease l = f.get();
            if (l.nodePath().endsWith(queue.get(i))) {
              next = l;
            }
          }
        }
        if (next == null) {
          String inLine = queue.get(i);
          next = Eventually.eventually(Duration.ofSeconds(5), "the next in line (" + inLine + ") acquired", () -> {
            for (Future<Lease> f : futures) {
              if (f.isDone() && leaseOf(f).nodePath().endsWith(inLine)) {
                return leaseOf(f);
              }
            }
            return null;
          }, l -> l != null);
        }
        assertNotNull(next, "the next in line acquired");
        assertTrue(next.fencingToken() > previous.fencingToken());
        int released = i;
        Eventually.holdsFor(Duration.ofMillis(50), "no stray wake-up",
            () -> wakeups.values().stream().mapToInt(AtomicInteger::get).sum() <= released);
        int woken = wakeups.values().stream().mapToInt(AtomicInteger::get).sum();
        assertEquals(i, woken, "release " + i + " woke exactly one waiter: " + wakeups);
        assertEquals(1, wakeups.get(queue.get(i)).get());
        previous = next;
      }
      previous.close();
    } finally {
      pool.shutdownNow();
    }
  }

  /** The lease of a finished acquire; its failure fails the test. */
  private static Lease leaseOf(Future<Lease> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } catch (ExecutionException e) {
      throw new AssertionError("an acquire failed", e);
    }
  }

  private static boolean waitDone(Future<?> f, long ms) {
    try {
      f.get(ms, TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void leaseIsLostWhenItsNodeIsDeletedBySomeoneElse() throws Exception {
    Mutex ma = new Mutex(a, "/deleted");
    Lease lease = ma.acquire();
    CountDownLatch lost = new CountDownLatch(1);
    lease.onLost(lost::countDown);
    b.delete(lease.nodePath(), -1);
    assertTrue(lost.await(5, TimeUnit.SECONDS));
    assertFalse(lease.isValid());
    CountDownLatch late = new CountDownLatch(1);
    lease.onLost(late::countDown); // added after the loss: runs at once
    assertTrue(late.await(5, TimeUnit.SECONDS));
    lease.close();
    // Released (not lost): listeners do not run.
    Lease again = ma.acquire();
    CountDownLatch notLost = new CountDownLatch(1);
    again.onLost(notLost::countDown);
    again.close();
    assertFalse(notLost.await(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void badArgumentsAreRejectedClearly() {
    assertThrows(IllegalArgumentException.class, () -> new Mutex(a, "locks"));
    assertThrows(IllegalArgumentException.class, () -> new Mutex(a, "/"));
    assertThrows(IllegalArgumentException.class, () -> new Mutex(a, "/a/"));
    assertThrows(IllegalArgumentException.class, () -> new Mutex(null, "/a"));
    assertThrows(IllegalArgumentException.class, () -> new Mutex(a, "/a").tryAcquire(Duration.ofMillis(-1)));
  }
}
