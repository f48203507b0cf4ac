package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.client.recipes.Lease;
import dev.synod.client.recipes.Mutex;
import dev.synod.server.Eventually;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server cut off from the other two keeps answering its clients, while the majority (which
 * alone expires sessions) no longer hears of them. Its clients must not be told their sessions
 * are alive: they go SUSPENDED and move to the majority in time, and a lock holder that cannot
 * move gives its lease up before the majority hands the lock to another client. Run with the
 * cut-off server a follower and the leader.
 */
class CutOffServerTest {
  static final Duration TIMEOUT = Duration.ofMillis(1500);

  @TempDir Path dir;

  record Timed(ConnectionState state, long atNanos) {}

  static String connectString(LocalServers cluster, int... ids) {
    StringJoiner j = new StringJoiner(",");
    for (int id : ids) {
      j.add("127.0.0.1:" + cluster.nodes[id].port());
    }
    return j.toString();
  }

  static int[] others(int id) {
    return new int[] {id % 3 + 1, (id + 1) % 3 + 1};
  }

  static int cutOff(LocalServers cluster, boolean leader) throws InterruptedException {
    int leaderId = cluster.awaitLeader();
    return leader ? leaderId : leaderId % 3 + 1;
  }

  @ParameterizedTest(name = "the cut-off server leads: {0}")
  @ValueSource(booleans = {false, true})
  void aLockHolderThatCannotMoveLosesItsLeaseBeforeTheMajorityExpiresItsSession(boolean leader) throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      int cut = cutOff(cluster, leader);
      String majority = connectString(cluster, others(cut));
      List<Timed> states = new CopyOnWriteArrayList<>();
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try (SynodClient holder = SynodClient.builder().connectString(connectString(cluster, cut))
               .sessionTimeout(TIMEOUT).connectionStateListener((c, s) -> states.add(new Timed(s, System.nanoTime())))
               .build().start();
           SynodClient waiter = SynodClient.builder().connectString(majority).sessionTimeout(Duration.ofSeconds(6))
               .build().start();
           SynodClient observer = SynodClient.builder().connectString(majority).sessionTimeout(Duration.ofSeconds(6))
               .build().start()) {
        assertTrue(holder.blockUntilConnected(Duration.ofSeconds(10)));
        assertTrue(waiter.blockUntilConnected(Duration.ofSeconds(10)));
        assertTrue(observer.blockUntilConnected(Duration.ofSeconds(10)));
        Lease lease = new Mutex(holder, "/lock").acquire();
        AtomicLong lostAt = new AtomicLong();
        CountDownLatch lost = new CountDownLatch(1);
        lease.onLost(() -> {
          lostAt.set(System.nanoTime());
          lost.countDown();
        });
        AtomicLong goneAt = new AtomicLong();
        CountDownLatch gone = new CountDownLatch(1);
        assertNotNull(observer.exists(lease.nodePath(), event -> {
          goneAt.set(System.nanoTime());
          gone.countDown();
        }));
        Future<Lease> next = pool.submit(() -> new Mutex(waiter, "/lock").acquire());

        long cutAt = System.nanoTime();
        cluster.isolate(cut, true);
        Lease taken = next.get(30, TimeUnit.SECONDS);
        long takenAt = System.nanoTime();
        assertTrue(gone.await(10, TimeUnit.SECONDS), "the majority expired the holder's session");
        assertTrue(taken.fencingToken() > lease.fencingToken());

        assertTrue(lost.getCount() == 0 && lostAt.get() - goneAt.get() < 0,
            "the lease was lost (" + (lost.getCount() == 0 ? ms(lostAt.get() - cutAt) + " ms" : "not at all")
                + " after the cut) before the majority expired the session (" + ms(goneAt.get() - cutAt)
                + " ms) and gave the lock to another client (" + ms(takenAt - cutAt) + " ms)");
        assertFalse(lease.isValid());
        Timed suspended = states.stream().filter(t -> t.state() == ConnectionState.SUSPENDED).findFirst()
            .orElseThrow(() -> new AssertionError("the holder never went SUSPENDED: " + states));
        assertTrue(suspended.atNanos() - goneAt.get() < 0, "SUSPENDED " + ms(suspended.atNanos() - cutAt)
            + " ms after the cut, before the session expired (" + ms(goneAt.get() - cutAt) + " ms)");
        System.out.println("cut-off " + (leader ? "leader" : "follower") + ": SUSPENDED after "
            + ms(suspended.atNanos() - cutAt) + " ms, lease lost after " + ms(lostAt.get() - cutAt)
            + " ms, session expired after " + ms(goneAt.get() - cutAt) + " ms (timeout " + TIMEOUT.toMillis() + " ms)");
        taken.close();
      } finally {
        cluster.isolate(cut, false);
        pool.shutdownNow();
      }
    }
  }

  @ParameterizedTest(name = "the cut-off server leads: {0}")
  @ValueSource(booleans = {false, true})
  void aClientOfACutOffServerMovesToTheMajorityAndKeepsItsSession(boolean leader) throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      int cut = cutOff(cluster, leader);
      List<ConnectionState> states = new CopyOnWriteArrayList<>();
      try (SynodClient client = Faults.build(SynodClient.builder().connectString(cluster.connectString())
               .sessionTimeout(TIMEOUT).connectionStateListener((c, s) -> states.add(s))).start();
           SynodClient observer = SynodClient.builder().connectString(connectString(cluster, others(cut)))
               .sessionTimeout(Duration.ofSeconds(6)).build().start()) {
        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        assertTrue(observer.blockUntilConnected(Duration.ofSeconds(10)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        InetSocketAddress at;
        while (cluster.idOfPort((at = serverOf(client, deadline)).getPort()) != cut) {
          Faults.of(client).disconnect(); // on to the next server
          InetSocketAddress left = at;
          Eventually.eventually(remaining(deadline), "the client leaves " + left,
              () -> !left.equals(client.currentServer()));
        }
        long session = client.sessionId();
        client.create("/eph", new byte[0], CreateOptions.of(NodeKind.EPHEMERAL));
        states.clear();

        long cutAt = System.nanoTime();
        cluster.isolate(cut, true);
        Eventually.eventually(TIMEOUT, "within a session timeout the client moved to the majority",
            () -> client.state() + " on " + client.currentServer() + ", states " + states,
            seen -> client.state() == ConnectionState.RECONNECTED && client.currentServer() != null
                && cluster.idOfPort(client.currentServer().getPort()) != cut);
        System.out.println("cut-off " + (leader ? "leader" : "follower") + ": the client moved after "
            + ms(System.nanoTime() - cutAt) + " ms: " + states);
        // The session outlives its timeout twice over after the cut: the client kept it alive in time.
        Eventually.holdsFor(Duration.ofNanos(Math.max(0, cutAt + 2 * TIMEOUT.toNanos() - System.nanoTime())),
            "the session outlives twice its timeout after the cut", () -> {
              Stat eph = observer.exists("/eph");
              assertNotNull(eph, "the session expired " + ms(System.nanoTime() - cutAt) + " ms after the cut");
              assertEquals(session, eph.getEphemeralOwner());
              return true;
            });
        assertEquals(session, client.sessionId());
        client.create("/after", new byte[0]); // the session still writes
        assertFalse(states.contains(ConnectionState.EXPIRED), states.toString());
      } finally {
        cluster.isolate(cut, false);
      }
    }
  }

  /** The server the client is connected to, once it is. */
  static InetSocketAddress serverOf(SynodClient client, long deadlineNanos) throws InterruptedException {
    return Eventually.eventually(remaining(deadlineNanos), "the client connected (null: not yet)", () -> {
      InetSocketAddress at = client.currentServer();
      ConnectionState state = client.state();
      boolean connected = state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED;
      return at != null && connected ? at : null;
    }, at -> at != null);
  }

  /** The time left until {@code deadlineNanos} (a System.nanoTime() value), never negative. */
  static Duration remaining(long deadlineNanos) {
    return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
  }

  static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
