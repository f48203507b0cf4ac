package dev.synod.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.Faults;
import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LeaderLatch and LeaderSelector against one real server over loopback. */
class LeaderElectionTest {
  @TempDir static Path dir;
  static RecipeTestCluster server;

  @BeforeAll
  static void start() throws Exception {
    server = RecipeTestCluster.start(dir, 1);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static SynodClient connect(Duration timeout) throws InterruptedException {
    SynodClient c = Faults.build(SynodClient.builder().connectString(server.connectString()).sessionTimeout(timeout)).start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
    return c;
  }

  /** Records what a latch's listener heard, and on which thread. */
  static final class Events implements LeaderLatchListener {
    final BlockingQueue<Long> tokens = new LinkedBlockingQueue<>();
    final AtomicInteger notLeader = new AtomicInteger();
    final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public void isLeader(long fencingToken) {
      threads.add(Thread.currentThread().getName());
      tokens.add(fencingToken);
    }

    @Override
    public void notLeader() {
      threads.add(Thread.currentThread().getName());
      notLeader.incrementAndGet();
    }
  }

  static int leaders(List<LeaderLatch> latches) {
    return (int) latches.stream().filter(LeaderLatch::hasLeadership).count();
  }

  @Test
  void exactlyOneLeaderFailoverOnCloseAndOnExpiryWithIncreasingTokens() throws Exception {
    List<SynodClient> clients = new ArrayList<>();
    List<LeaderLatch> latches = new ArrayList<>();
    List<Events> events = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        SynodClient c = connect(Duration.ofSeconds(1));
        clients.add(c);
        LeaderLatch latch = new LeaderLatch(c, "/election/latch", "p" + i);
        Events e = new Events();
        latch.addListener(e);
        latches.add(latch);
        events.add(e);
        latch.start();
        if (i == 0) {
          assertTrue(latch.await(Duration.ofSeconds(5)), "the first participant leads");
        }
      }
      Eventually.eventually(Duration.ofSeconds(5), "latches.get(0).participants().size() >= 3", () -> latches.get(0).participants().size() >= 3);
      assertEquals(List.of("p0", "p1", "p2"), latches.get(2).participants());
      assertEquals("p0", latches.get(1).currentLeader().orElseThrow());
      assertFalse(latches.get(1).await(Duration.ofMillis(100)));
      assertEquals(1, leaders(latches));
      long t0 = events.get(0).tokens.poll(5, TimeUnit.SECONDS);
      assertEquals(t0, latches.get(0).fencingToken());
      assertEquals(0, latches.get(1).fencingToken(), "no token without leadership");

      // Close: the next in line takes over.
      latches.get(0).close();
      assertFalse(latches.get(0).hasLeadership());
      assertEquals(1, events.get(0).notLeader.get());
      assertTrue(latches.get(1).await(Duration.ofSeconds(5)));
      long t1 = events.get(1).tokens.poll(5, TimeUnit.SECONDS);
      assertTrue(t1 > t0);
      assertEquals(1, leaders(latches));
      assertEquals(List.of("p1", "p2"), latches.get(2).participants());

      // Expiry: the leader's client is cut off past its session timeout.
      RecipeTestCluster.partition(clients.get(1), true);
      assertTrue(latches.get(2).await(Duration.ofSeconds(10)), "the last participant takes over");
      long t2 = events.get(2).tokens.poll(5, TimeUnit.SECONDS);
      assertTrue(t2 > t1);
      Eventually.eventually(Duration.ofSeconds(5), "!latches.get(1).hasLeadership()", () -> !latches.get(1).hasLeadership());
      assertFalse(latches.get(1).hasLeadership(), "the expired leader stepped down");
      // Its listener hears of it on the latch's own thread, just after the flag flips.
      Eventually.eventually(Duration.ofSeconds(5), "the expired leader's listener heard notLeader",
          () -> events.get(1).notLeader.get() != 0);
      assertEquals(1, events.get(1).notLeader.get());
      assertEquals(List.of("p2"), latches.get(2).participants());
      for (Events e : events) {
        for (String t : e.threads) {
          assertTrue(t.startsWith("synod-leader-latch /election/latch"), "listener ran on the latch thread: " + t);
        }
      }
    } finally {
      RecipeTestCluster.partition(clients.get(1), false);
      latches.forEach(LeaderLatch::close);
      clients.forEach(SynodClient::close);
    }
  }

  @Test
  void latchIsStartedOnceAndChecksItsArguments() throws Exception {
    try (SynodClient c = connect(Duration.ofSeconds(5)); LeaderLatch latch = new LeaderLatch(c, "/election/once", "x")) {
      latch.start();
      assertThrows(IllegalStateException.class, latch::start);
      assertThrows(IllegalArgumentException.class, () -> new LeaderLatch(c, "/election/once", ""));
      assertThrows(IllegalArgumentException.class, () -> new LeaderLatch(c, "election", "x"));
      assertTrue(latch.await(Duration.ofSeconds(5)));
      latch.close();
      assertFalse(latch.await(Duration.ofMillis(10)));
    }
  }

  @Test
  void selectorsTakeTurnsWithAutoRequeueNeverTwoAtOnceTokensIncrease() throws Exception {
    AtomicInteger leading = new AtomicInteger();
    AtomicInteger overlap = new AtomicInteger();
    List<String> who = new CopyOnWriteArrayList<>();
    List<Long> tokens = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    List<SynodClient> clients = new ArrayList<>();
    List<LeaderSelector> selectors = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        SynodClient c = connect(Duration.ofSeconds(5));
        clients.add(c);
        String id = "s" + i;
        selectors.add(new LeaderSelector(c, "/election/selector", id, leadership -> {
          if (leading.incrementAndGet() > 1) {
            overlap.incrementAndGet();
          }
          assertTrue(leadership.isValid());
          who.add(id);
          tokens.add(leadership.fencingToken());
          threads.add(Thread.currentThread().getName());
          Thread.sleep(30); // a leader leads a while: the workload, not a wait
          leading.decrementAndGet();
        }).autoRequeue());
      }
      selectors.forEach(LeaderSelector::start);
      Eventually.eventually(Duration.ofSeconds(10), "tokens.size() >= 8", () -> tokens.size() >= 8);
    } finally {
      selectors.forEach(LeaderSelector::close);
      clients.forEach(SynodClient::close);
    }
    assertTrue(tokens.size() >= 8, "leadership went round: " + who);
    assertEquals(0, overlap.get(), "never two leaders at once");
    for (int i = 1; i < tokens.size(); i++) {
      assertTrue(tokens.get(i) > tokens.get(i - 1), "tokens increase: " + tokens);
    }
    assertTrue(who.contains("s0") && who.contains("s1"), "both led: " + who);
    assertTrue(threads.stream().allMatch(t -> t.startsWith("synod-leader-selector /election/selector")), threads.toString());
  }

  @Test
  void withoutAutoRequeueASelectorLeadsOnceAndCloseInterruptsALeader() throws Exception {
    try (SynodClient a = connect(Duration.ofSeconds(5)); SynodClient b = connect(Duration.ofSeconds(5))) {
      AtomicInteger onceCount = new AtomicInteger();
      BlockingQueue<Boolean> interrupted = new LinkedBlockingQueue<>();
      LeaderSelector once = new LeaderSelector(a, "/election/once-selector", "once", l -> onceCount.incrementAndGet());
      LeaderSelector forever = new LeaderSelector(b, "/election/forever-selector", "forever", l -> {
        try {
          Thread.sleep(60_000); // a leader that never returns: only close() interrupts it
          interrupted.add(false);
        } catch (InterruptedException e) {
          interrupted.add(true);
          throw e;
        }
      });
      once.start();
      forever.start();
      Eventually.eventually(Duration.ofSeconds(5), "onceCount.get() != 0 && forever.hasLeadership()", () -> onceCount.get() != 0 && forever.hasLeadership());
      Eventually.holdsFor(Duration.ofMillis(200), "without autoRequeue: one leadership", () -> onceCount.get() == 1);
      assertEquals(1, onceCount.get(), "without autoRequeue: one leadership");
      assertTrue(forever.hasLeadership());
      forever.close();
      assertEquals(Boolean.TRUE, interrupted.poll(5, TimeUnit.SECONDS), "close interrupts takeLeadership");
      assertFalse(forever.hasLeadership());
      assertNull(b.exists("/election/forever-selector"), "leadership released (node and container gone)");
      once.close();
    }
  }
}
