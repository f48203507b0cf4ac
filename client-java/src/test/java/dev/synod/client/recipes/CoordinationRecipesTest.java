package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Barriers, double barrier, queue and counter against one real server over loopback. */
class CoordinationRecipesTest {
  @TempDir static Path dir;
  static RecipeTestCluster server;
  static SynodClient a;
  static SynodClient b;
  static SynodClient c;
  static ExecutorService pool;

  @BeforeAll
  static void up() throws Exception {
    server = new RecipeTestCluster(dir, 1);
    a = server.client(Duration.ofSeconds(5), false);
    b = server.client(Duration.ofSeconds(5), false);
    c = server.client(Duration.ofSeconds(5), false);
    pool = Executors.newCachedThreadPool();
  }

  @AfterAll
  static void down() {
    pool.shutdownNow();
    for (SynodClient x : new SynodClient[] {a, b, c}) {
      if (x != null) {
        x.close();
      }
    }
    if (server != null) {
      server.close();
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void barrierHoldsWaitersUntilRemoved() throws Exception {
    DistributedBarrier setter = new DistributedBarrier(a, "/barriers/one");
    assertTrue(new DistributedBarrier(b, "/barriers/one").waitOnBarrier(Duration.ofMillis(1)), "not set: no wait");
    setter.setBarrier();
    setter.setBarrier(); // idempotent
    assertFalse(new DistributedBarrier(b, "/barriers/one").waitOnBarrier(Duration.ofMillis(100)));

    List<Future<Boolean>> waiters = new ArrayList<>();
    for (SynodClient x : List.of(b, c)) {
      waiters.add(pool.submit(() -> new DistributedBarrier(x, "/barriers/one").waitOnBarrier(Duration.ofSeconds(10))));
    }
    Eventually.holdsFor(Duration.ofMillis(100), "held while set", () -> waiters.stream().noneMatch(Future::isDone));
    waiters.forEach(w -> assertFalse(w.isDone(), "held while set"));
    long t0 = System.nanoTime();
    setter.removeBarrier();
    for (Future<Boolean> w : waiters) {
      assertTrue(w.get(5, TimeUnit.SECONDS));
    }
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "released by the watch, not by a timeout");
    setter.removeBarrier(); // idempotent
    assertThrows(IllegalArgumentException.class, () -> new DistributedBarrier(a, "relative"));
  }

  @Test
  void barrierWaiterLearnsOfSessionExpiryInsteadOfSleepingToItsDeadline() throws Exception {
    new DistributedBarrier(a, "/barriers/exp").setBarrier();
    try (SynodClient shortLived = server.client(Duration.ofMillis(800), false)) {
      Future<Boolean> waiter = pool.submit(
          () -> new DistributedBarrier(shortLived, "/barriers/exp").waitOnBarrier(Duration.ofSeconds(30)));
      Thread.sleep(100); // the waiter is inside waitOnBarrier before the expiry; nothing observable to wait for
      long t0 = System.nanoTime();
      RecipeTestCluster.expireSession(shortLived);
      var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> waiter.get(10, TimeUnit.SECONDS));
      assertInstanceOf(SessionExpiredException.class, e.getCause());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
    }
  }

  @Test
  void doubleBarrierLetsNobodyInBeforeAllArriveAndNobodyOutBeforeAllLeave() throws Exception {
    String path = "/barriers/double";
    List<String> log = new CopyOnWriteArrayList<>();
    List<SynodClient> members = List.of(a, b, c);
    List<Future<?>> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      SynodClient x = members.get(i);
      String id = "m" + i;
      int delayMs = i * 150;
      runs.add(pool.submit(() -> {
        Thread.sleep(delayMs); // members arrive staggered: the scenario, not a wait
        DoubleBarrier barrier = new DoubleBarrier(x, path, 3, id);
        log.add("arrive " + id);
        assertTrue(barrier.enter(Duration.ofSeconds(10)));
        log.add("in " + id);
        Thread.sleep(delayMs); // and leave staggered: the scenario, not a wait
        log.add("leave " + id);
        assertTrue(barrier.leave(Duration.ofSeconds(10)));
        log.add("out " + id);
        return null;
      }));
    }
    for (Future<?> r : runs) {
      r.get(20, TimeUnit.SECONDS);
    }
    int lastArrive = lastIndex(log, "arrive ");
    int firstIn = firstIndex(log, "in ");
    assertTrue(lastArrive < firstIn, "nobody entered before all arrived: " + log);
    assertTrue(lastIndex(log, "leave ") < firstIndex(log, "out "), "nobody left before all left: " + log);
    assertEquals(List.of(), a.getChildren(path), "members and ready flag are gone: reusable");

    // A participant whose session expires drops out (its node is ephemeral).
    try (SynodClient shortLived = server.client(Duration.ofMillis(800), false)) {
      DoubleBarrier lone = new DoubleBarrier(shortLived, path, 2, "lone");
      assertFalse(lone.enter(Duration.ofMillis(100)));
      assertEquals(List.of("lone"), new DoubleBarrier(a, path, 2).members());
      RecipeTestCluster.expireSession(shortLived);
      assertEquals(List.of(), new DoubleBarrier(a, path, 2).members());
    }
    assertThrows(IllegalArgumentException.class, () -> new DoubleBarrier(a, path, 0));
    assertThrows(IllegalArgumentException.class, () -> new DoubleBarrier(a, path, 2, "ready"));
  }

  @Test
  void queueIsFifoAndEveryItemGoesToExactlyOneOfSeveralConsumers() throws Exception {
    DistributedQueue producer = new DistributedQueue(a, "/queues/work");
    assertNull(producer.poll(Duration.ofMillis(50)), "empty: times out");
    assertNull(assertTimeoutPreemptively(Duration.ofSeconds(5), () -> producer.poll(Duration.ZERO)),
        "a zero timeout only looks once");
    for (int i = 0; i < 5; i++) {
      producer.offer(bytes("fifo-" + i));
    }
    for (int i = 0; i < 5; i++) {
      assertEquals("fifo-" + i, new String(producer.take(), UTF_8));
    }

    int items = 60;
    Set<String> taken = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    List<Future<?>> consumers = new ArrayList<>();
    for (SynodClient x : List.of(b, c)) {
      for (int t = 0; t < 2; t++) {
        DistributedQueue q = new DistributedQueue(x, "/queues/work");
        consumers.add(pool.submit(() -> {
          byte[] item;
          while ((item = q.poll(Duration.ofMillis(700))) != null) {
            if (!taken.add(new String(item, UTF_8))) {
              duplicates.incrementAndGet();
            }
          }
          return null;
        }));
      }
    }
    for (int i = 0; i < items; i++) {
      producer.offer(bytes("job-" + i));
    }
    for (Future<?> f : consumers) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(0, duplicates.get());
    assertEquals(items, taken.size(), "none lost");
    assertEquals(0, producer.size());

    // A blocked take wakes up on an offer (watch, not polling).
    Future<byte[]> blocked = pool.submit(() -> new DistributedQueue(b, "/queues/late").take());
    Eventually.holdsFor(Duration.ofMillis(100), "a take on an empty queue blocks", () -> !blocked.isDone());
    assertFalse(blocked.isDone());
    new DistributedQueue(a, "/queues/late").offer(bytes("late"));
    assertEquals("late", new String(blocked.get(5, TimeUnit.SECONDS), UTF_8));
  }

  @Test
  void counterAddsNeverLoseAnIncrementAndListenersSeeChanges() throws Exception {
    BlockingQueue<Long> seen = new LinkedBlockingQueue<>();
    try (SharedCounter watcher = new SharedCounter(a, "/counters/hits", 100).start()) {
      watcher.addListener(seen::add);
      assertEquals(100, watcher.get());
      SharedCounter.VersionedValue v = watcher.getVersioned();
      assertTrue(watcher.trySet(v, 200));
      assertFalse(watcher.trySet(v, 300), "stale version");
      assertEquals(200, watcher.get());
      assertEquals(200L, poll(seen, 200L));

      List<Future<?>> adders = new ArrayList<>();
      for (SynodClient x : List.of(a, b, c)) {
        SharedCounter counter = new SharedCounter(x, "/counters/hits", 0);
        adders.add(pool.submit(() -> {
          for (int i = 0; i < 30; i++) {
            counter.increment();
          }
          return null;
        }));
      }
      for (Future<?> f : adders) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertEquals(290, watcher.get());
      assertEquals(290L, poll(seen, 290L));
      assertEquals(280, watcher.add(-10));
    }
    a.setData("/counters/hits", bytes("not a number"), -1);
    IllegalStateException bad = assertThrows(IllegalStateException.class, () -> new SharedCounter(b, "/counters/hits", 0).get());
    assertTrue(bad.getMessage().contains("/counters/hits"));
  }

  /** Polls values until {@code wanted} shows up (listeners may see intermediate values). */
  static Long poll(BlockingQueue<Long> q, Long wanted) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Long v;
    while ((v = q.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null) {
      if (v.equals(wanted)) {
        return v;
      }
    }
    return null;
  }

  static int firstIndex(List<String> log, String prefix) {
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  static int lastIndex(List<String> log, String prefix) {
    List<String> copy = new ArrayList<>(log);
    Collections.reverse(copy);
    int fromEnd = firstIndex(copy, prefix);
    return fromEnd < 0 ? -1 : log.size() - 1 - fromEnd;
  }
}
