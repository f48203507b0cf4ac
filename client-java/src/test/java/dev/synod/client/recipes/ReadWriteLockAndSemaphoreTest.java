package dev.synod.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read-write lock and the semaphore against one real server over loopback. */
class ReadWriteLockAndSemaphoreTest {
  @TempDir static Path dir;
  static RecipeTestCluster server;
  static List<SynodClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server = RecipeTestCluster.start(dir, 1);
    for (int i = 0; i < 4; i++) {
      clients.add(MutexTest.connect(server));
    }
  }

  @AfterAll
  static void stop() {
    clients.forEach(SynodClient::close);
    server.close();
  }

  static SharedReadWriteLock rw(int client) {
    return new SharedReadWriteLock(clients.get(client), "/rw");
  }

  @Test
  void readersShareAWriterExcludesAndLaterReadersDoNotStarveIt() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Lease r1 = rw(0).readLock().tryAcquire(Duration.ofSeconds(5)).orElseThrow();
      Lease r2 = rw(1).readLock().tryAcquire(Duration.ofSeconds(5)).orElseThrow();
      assertTrue(r1.isValid() && r2.isValid(), "readers share");
      assertEquals(Optional.empty(), rw(2).writeLock().tryAcquire(Duration.ofMillis(200)), "readers exclude a writer");
      assertEquals(2, clients.get(3).getChildren("/rw").size(), "the timed-out writer left nothing");

      Future<Lease> writer = pool.submit(() -> rw(2).writeLock().acquire());
      awaitChildren("/rw", 3);
      // A reader arriving after a waiting writer queues behind it.
      assertEquals(Optional.empty(), rw(3).readLock().tryAcquire(Duration.ofMillis(300)), "no overtaking the writer");
      Future<Lease> lateReader = pool.submit(() -> rw(3).readLock().acquire());
      awaitChildren("/rw", 4);
      r1.close();
      assertFalse(writer.isDone());
      r2.close();
      Lease w = writer.get(5, TimeUnit.SECONDS);
      assertTrue(w.fencingToken() > r2.fencingToken() && w.fencingToken() > r1.fencingToken());
      Eventually.holdsFor(Duration.ofMillis(100), "the writer excludes readers", () -> !lateReader.isDone());
      assertFalse(lateReader.isDone(), "the writer excludes readers");
      w.close();
      Lease r3 = lateReader.get(5, TimeUnit.SECONDS);
      assertTrue(r3.fencingToken() > w.fencingToken());
      r3.close();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void readersWatchTheNearestWriterAheadAndWritersTheirPredecessor() throws Exception {
    SharedReadWriteLock lock = new SharedReadWriteLock(clients.get(1), "/rw-watch");
    Map<String, String> watched = new ConcurrentHashMap<>();
    LockQueue.WaitObserver record = new LockQueue.WaitObserver() {
      @Override
      public void watching(String ownNode, String watchedNode) {
        watched.put(ownNode, watchedNode);
      }
    };
    lock.observeWaits(false, record);
    lock.observeWaits(true, record);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (Lease w1 = new SharedReadWriteLock(clients.get(0), "/rw-watch").writeLock().acquire()) {
      List<Future<Lease>> waiting = new ArrayList<>();
      waiting.add(pool.submit(() -> lock.readLock().acquire()));
      awaitChildren("/rw-watch", 2);
      waiting.add(pool.submit(() -> lock.readLock().acquire()));
      awaitChildren("/rw-watch", 3);
      waiting.add(pool.submit(() -> lock.writeLock().acquire()));
      awaitChildren("/rw-watch", 4);
      Eventually.eventually(Duration.ofSeconds(5), "watched.size() >= 3", () -> watched.size() >= 3);
      List<String> q = clients.get(2).getChildren("/rw-watch").stream()
          .sorted((a, b) -> a.substring(a.length() - 10).compareTo(b.substring(b.length() - 10))).toList();
      assertEquals(q.get(0), watched.get(q.get(1)), "reader 1 watches the writer");
      assertEquals(q.get(0), watched.get(q.get(2)), "reader 2 watches the writer, not reader 1");
      assertEquals(q.get(2), watched.get(q.get(3)), "the writer watches its predecessor");
      w1.close();
      Lease a = waiting.get(0).get(5, TimeUnit.SECONDS);
      Lease b = waiting.get(1).get(5, TimeUnit.SECONDS);
      a.close();
      b.close();
      waiting.get(2).get(5, TimeUnit.SECONDS).close();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void semaphoreNeverHasMoreThanItsPermitsAndATimedOutWaiterLeavesNothing() throws Exception {
    int permits = 2;
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger max = new AtomicInteger();
    List<Long> tokens = new CopyOnWriteArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        SharedSemaphore sem = new SharedSemaphore(clients.get(i), "/sem", permits);
        workers.add(pool.submit(() -> {
          try {
            for (int round = 0; round < 8; round++) {
              try (Lease lease = sem.acquire()) {
                int now = holders.incrementAndGet();
                max.accumulateAndGet(now, Math::max);
                tokens.add(lease.fencingToken());
                Thread.sleep(15); // a holder holds the permit a while: the workload, not a wait
                holders.decrementAndGet();
              }
            }
          } catch (Throwable t) {
            failures.add(t);
          }
        }));
      }
      for (Future<?> w : workers) {
        w.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(), failures);
    assertEquals(permits, max.get(), "at most " + permits + " holders, and the permits were used");
    assertEquals(32, tokens.size());
    assertEquals(32, tokens.stream().distinct().count(), "every lease has its own token");

    SharedSemaphore sem = new SharedSemaphore(clients.get(0), "/sem2", 1);
    try (Lease held = sem.acquire()) {
      assertEquals(Optional.empty(), new SharedSemaphore(clients.get(1), "/sem2", 1).tryAcquire(Duration.ofMillis(200)));
      assertEquals(List.of(LockQueue.nameOf(held.nodePath())), clients.get(2).getChildren("/sem2/leases"));
      assertEquals(null, clients.get(2).exists("/sem2/gate"), "the gate is free (its container reaped)");
    }
    assertThrows(IllegalArgumentException.class, () -> new SharedSemaphore(clients.get(0), "/sem3", 0));
  }

  static void awaitChildren(String path, int n) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(5), path + " has " + n + " children",
        () -> clients.get(3).exists(path) != null ? clients.get(3).getChildren(path) : List.<String>of(),
        children -> children.size() == n);
  }
}
