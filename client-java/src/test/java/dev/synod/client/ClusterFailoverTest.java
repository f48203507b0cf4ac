package dev.synod.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.EventType;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 3-server cluster on loopback: failover keeps the session, its ephemerals and its watches. */
class ClusterFailoverTest {
  @TempDir Path dir;

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void failoverKeepsSessionEphemeralsWatchesAndAppliesRetriedWritesOnce() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      cluster.awaitLeader();
      List<ConnectionState> states = new CopyOnWriteArrayList<>();
      try (SynodClient other = SynodClient.builder().connectString(cluster.connectString())
               .sessionTimeout(Duration.ofSeconds(3)).build().start();
           SynodClient client = Faults.build(SynodClient.builder().connectString(cluster.connectString())
               .sessionTimeout(Duration.ofMillis(3000)).connectionStateListener((c, s) -> states.add(s))).start()) {
        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        assertTrue(other.blockUntilConnected(Duration.ofSeconds(10)));
        long session = client.sessionId();

        client.create("/eph", b(""), CreateOptions.of(NodeKind.EPHEMERAL));
        client.create("/w", b("0"));
        client.create("/p", b(""));
        client.create("/q", b(""));
        BlockingQueue<WatchedEvent> oneShot = new LinkedBlockingQueue<>();
        BlockingQueue<WatchedEvent> existsShot = new LinkedBlockingQueue<>();
        BlockingQueue<WatchedEvent> persistent = new LinkedBlockingQueue<>();
        client.getData("/w", oneShot::add);
        client.exists("/w-later", existsShot::add);
        client.addWatch("/p", true, false, persistent::add);
        client.create("/p/before", b(""));
        assertEquals("/p/before", persistent.poll(5, TimeUnit.SECONDS).path());

        // A sequential create whose reply is lost: applied by the server, still pending here.
        Faults.of(client).dropResponses(true);
        CompletableFuture<CreateResult> seq = client.createAsync("/q/job-", b(""), CreateOptions.PERSISTENT.sequential());
        Eventually.eventually(Duration.ofSeconds(10), "!other.getChildren(\"/q\").isEmpty()", () -> !other.getChildren("/q").isEmpty());
        assertEquals(1, other.getChildren("/q").size());
        Faults.of(client).dropResponses(false);

        // Cut the client off, kill its server, change things while it is away, let it come back.
        Faults.of(client).holdReconnect(true);
        int victim = cluster.idOfPort(client.currentServer().getPort());
        long t0 = System.nanoTime();
        cluster.stop(victim);
        System.out.println("stopped server " + victim + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        other.setData("/w", b("1"), -1);
        other.create("/w-later", b(""));
        other.create("/p/away", b(""));
        other.create("/p/away/deeper", b(""));
        System.out.println("changes made after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        Faults.of(client).holdReconnect(false);

        assertEquals(EventType.NODE_DATA_CHANGED, oneShot.poll(10, TimeUnit.SECONDS).type());
        assertEquals(EventType.NODE_CREATED, existsShot.poll(10, TimeUnit.SECONDS).type());
        assertEquals("/p/away", persistent.poll(10, TimeUnit.SECONDS).path());
        assertEquals("/p/away/deeper", persistent.poll(10, TimeUnit.SECONDS).path());

        CreateResult created = seq.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(created.path().substring("/q/".length())), other.getChildren("/q"));

        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        assertEquals(session, client.sessionId());
        assertNotEquals(victim, cluster.idOfPort(client.currentServer().getPort()));
        Stat eph = other.exists("/eph");
        assertNotNull(eph, "the ephemeral survives the failover");
        assertEquals(session, eph.getEphemeralOwner());

        // Live events still flow, no duplicates of the replayed ones.
        other.create("/p/after", b(""));
        assertEquals("/p/after", persistent.poll(10, TimeUnit.SECONDS).path());
        client.sync();
        assertNull(persistent.poll(200, TimeUnit.MILLISECONDS));
        assertNull(oneShot.poll(1, TimeUnit.MILLISECONDS));

        assertEquals(List.of(ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.RECONNECTED),
            List.copyOf(states));
      }
    }
  }

  @Test
  void unreachableClusterEndsExpiredAndFailsPendingCalls() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      cluster.awaitLeader();
      List<ConnectionState> states = new CopyOnWriteArrayList<>();
      try (SynodClient client = SynodClient.builder().connectString(cluster.connectString())
          .sessionTimeout(Duration.ofMillis(600)).connectionStateListener((c, s) -> states.add(s)).build().start()) {
        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        client.create("/gone", b(""), CreateOptions.of(NodeKind.EPHEMERAL));
        cluster.close();
        CompletableFuture<Stat> call = client.existsAsync("/gone", null);
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
        assertInstanceOf(SessionExpiredException.class, e.getCause());
        assertEquals(ConnectionState.EXPIRED, client.state());
        // Listeners hear of it on the client's event thread, just after the state changed.
        Eventually.eventually(Duration.ofSeconds(5), "states.contains(ConnectionState.EXPIRED)", () -> states.contains(ConnectionState.EXPIRED));
        // Connected first, then (with a 600 ms session, a heartbeat can go unconfirmed for a moment
        // on a loaded machine: only SUSPENDED/RECONNECTED pairs) suspended, then expired.
        List<ConnectionState> seen = List.copyOf(states);
        assertEquals(ConnectionState.CONNECTED, seen.get(0), seen.toString());
        assertEquals(List.of(ConnectionState.SUSPENDED, ConnectionState.EXPIRED),
            seen.subList(seen.size() - 2, seen.size()), seen.toString());
        for (int i = 1; i < seen.size() - 2; i += 2) {
          assertEquals(List.of(ConnectionState.SUSPENDED, ConnectionState.RECONNECTED),
              seen.subList(i, i + 2), seen.toString());
        }
      }
    }
  }
}
