package dev.synod.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.ConnectionState;
import dev.synod.client.Faults;
import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mutex against a 3-server cluster over loopback, with servers killed and clients cut off. */
class MutexClusterTest {
  @TempDir static Path dir;
  static RecipeTestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = RecipeTestCluster.start(dir, 3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static SynodClient connect(Duration sessionTimeout) throws InterruptedException {
    SynodClient c = Faults.build(SynodClient.builder().connectString(cluster.connectString())
        .sessionTimeout(sessionTimeout)).start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
    return c;
  }

  /** A downstream resource that accepts a write only with a token above every one it accepted. */
  static final class FencedResource {
    private long highest;
    final List<Long> accepted = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger rejected = new AtomicInteger();

    synchronized void write(long token) {
      if (token <= highest) {
        rejected.incrementAndGet();
        return;
      }
      highest = token;
      accepted.add(token);
    }
  }

  @Test
  void mutualExclusionUnderContentionWhileServersAreKilledAndRestarted() throws Exception {
    int clients = 4;
    List<SynodClient> cs = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      cs.add(connect(Duration.ofSeconds(4))); // long enough that losing one server expires nothing
    }
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger maxHolders = new AtomicInteger();
    AtomicInteger[] perClient = new AtomicInteger[clients];
    FencedResource resource = new FencedResource();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Mutex mutex = new Mutex(cs.get(i), "/contended");
        AtomicInteger mine = perClient[i] = new AtomicInteger();
        workers.add(pool.submit(() -> {
          while (running.get()) {
            try {
              Optional<Lease> got = mutex.tryAcquire(Duration.ofSeconds(10));
              if (got.isEmpty()) {
                continue;
              }
              try (Lease lease = got.get()) {
                if (!lease.isValid()) {
                  continue;
                }
                int now = holders.incrementAndGet();
                maxHolders.accumulateAndGet(now, Math::max);
                resource.write(lease.fencingToken());
                Thread.sleep(2); // a holder holds the lock a moment: the workload, not a wait
                holders.decrementAndGet();
                mine.incrementAndGet();
              }
            } catch (InterruptedException e) {
              return;
            } catch (Throwable t) {
              failures.add(t);
              return;
            }
          }
        }));
      }
      // Kill each server in turn (first the one client 0 talks to), then bring it back.
      Thread.sleep(500); // the workers run this long first: the scenario, not a wait
      List<Integer> victims = new ArrayList<>();
      victims.add(cluster.idOfPort(cs.get(0).currentServer().getPort()));
      for (int id = 1; id <= 3; id++) {
        if (!victims.contains(id)) {
          victims.add(id);
        }
      }
      for (int victim : victims) {
        cluster.stop(victim);
        Thread.sleep(800); // the workers run this long with the victim down: the scenario, not a wait
        cluster.restart(victim);
        cluster.awaitLeader();
        Thread.sleep(800); // and this long with it back: the scenario, not a wait
      }
      running.set(false);
      for (Future<?> w : workers) {
        w.get(30, TimeUnit.SECONDS);
      }
    } finally {
      running.set(false);
      pool.shutdownNow();
      cs.forEach(SynodClient::close);
    }
    assertEquals(List.of(), failures, "no worker failed");
    assertEquals(1, maxHolders.get(), "never two holders at once");
    assertEquals(0, resource.rejected.get(), "no holder came with a stale token");
    List<Long> tokens = new ArrayList<>(resource.accepted);
    for (int i = 1; i < tokens.size(); i++) {
      assertTrue(tokens.get(i) > tokens.get(i - 1), "tokens strictly increase in order of entry");
    }
    int total = 0;
    for (AtomicInteger n : perClient) {
      assertTrue(n.get() > 0, "every client got the lock");
      total += n.get();
    }
    System.out.println("critical sections: " + total + " across " + clients + " clients while 3 servers were restarted");
    assertTrue(total >= 20, "progress: " + total);
  }

  @Test
  void partitionedClientExpiresLosesItsLeaseAndTheNextWaiterGetsAHigherToken() throws Exception {
    try (SynodClient cut = connect(Duration.ofSeconds(1));
         SynodClient waiter = connect(Duration.ofSeconds(5));
         SynodClient observer = connect(Duration.ofSeconds(5))) {
      List<ConnectionState> states = new CopyOnWriteArrayList<>();
      cut.addConnectionStateListener((c, s) -> states.add(s));
      Lease lease = new Mutex(cut, "/partitioned").acquire();
      CountDownLatch lost = new CountDownLatch(1);
      lease.onLost(lost::countDown);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<Optional<Lease>> next = pool.submit(() -> new Mutex(waiter, "/partitioned").tryAcquire(Duration.ofSeconds(15)));
        long t0 = System.nanoTime();
        RecipeTestCluster.partition(cut, true);
        assertTrue(lost.await(10, TimeUnit.SECONDS), "onLost fired");
        System.out.println("lease lost " + (System.nanoTime() - t0) / 1_000_000 + " ms after the partition (timeout 1000 ms)");
        assertFalse(lease.isValid());
        Lease taken = next.get(10, TimeUnit.SECONDS).orElseThrow();
        assertTrue(taken.fencingToken() > lease.fencingToken());
        assertNull(observer.exists(lease.nodePath()), "the expired session's node is gone");
        Eventually.eventually(Duration.ofSeconds(5), "states.contains(ConnectionState.EXPIRED)", () -> states.contains(ConnectionState.EXPIRED));
        assertTrue(states.contains(ConnectionState.EXPIRED), "the client reports EXPIRED: " + states);
        lease.close(); // harmless after loss
        assertTrue(taken.isValid());
        taken.close();
      } finally {
        RecipeTestCluster.partition(cut, false);
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aCreateWhoseReplyWasLostIsAppliedOnceAndAdopted() throws Exception {
    try (SynodClient client = connect(Duration.ofSeconds(4));
         SynodClient observer = connect(Duration.ofSeconds(4))) {
      observer.create("/lost-reply", new byte[0]); // so that the first reply lost is the lock node's create
      int victim = cluster.idOfPort(client.currentServer().getPort());
      RecipeTestCluster.dropResponses(client, true);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<Lease> f = pool.submit(() -> new Mutex(client, "/lost-reply").acquire());
        Eventually.eventually(Duration.ofSeconds(10), "!observer.getChildren(\"/lost-reply\").isEmpty()", () -> !observer.getChildren("/lost-reply").isEmpty());
        assertEquals(1, observer.getChildren("/lost-reply").size(), "the create applied");
        RecipeTestCluster.dropResponses(client, false);
        cluster.stop(victim); // the client resumes elsewhere and re-sends with the same request number
        Lease lease = f.get(10, TimeUnit.SECONDS);
        List<String> nodes = observer.getChildren("/lost-reply");
        assertEquals(1, nodes.size(), "applied once: " + nodes);
        assertEquals(lease.nodePath(), "/lost-reply/" + nodes.get(0));
        assertEquals(observer.exists(lease.nodePath()).getCzxid(), lease.fencingToken());
        lease.close();
      } finally {
        RecipeTestCluster.dropResponses(client, false);
        pool.shutdownNow();
        if (!cluster.isRunning(victim)) {
          cluster.restart(victim);
        }
        cluster.awaitLeader();
      }
    }
  }

  @Test
  void suspendedPastTheConfirmedTimeIsJeopardyTheLeaseIsGivenUp() throws Exception {
    try (SynodClient client = connect(Duration.ofSeconds(1));
         SynodClient observer = connect(Duration.ofSeconds(4))) {
      Lease lease = new Mutex(client, "/jeopardy").acquire();
      CountDownLatch lost = new CountDownLatch(1);
      lease.onLost(lost::countDown);
      // The monitor is told SUSPENDED (as on a lost connection) while the session in fact lives on:
      // once the time the servers confirmed the session for has run out, the lease must stop
      // claiming the lock, and release its node.
      long confirmedMs = client.confirmedTimeLeft().toMillis();
      ClientMonitor.of(client).stateChanged(client, ConnectionState.SUSPENDED);
      assertTrue(confirmedMs > 0, "a connected client's session is confirmed");
      assertTrue(lease.isValid(), "a short suspension keeps the lease");
      assertFalse(lost.await(Math.max(0, confirmedMs - 100), TimeUnit.MILLISECONDS));
      assertTrue(lost.await(2, TimeUnit.SECONDS), "jeopardy once the confirmed time has run out");
      assertFalse(lease.isValid());
      Eventually.eventually(Duration.ofSeconds(5), "observer.exists(lease.nodePath()) == null", () -> observer.exists(lease.nodePath()) == null);
      assertNull(observer.exists(lease.nodePath()), "the given-up node is deleted");
      ClientMonitor.of(client).stateChanged(client, ConnectionState.RECONNECTED);
    }
  }
}
