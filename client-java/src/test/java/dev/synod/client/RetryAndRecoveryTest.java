package dev.synod.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.NodeKind;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's retries and recovery against real servers: OVERLOADED answers are retried with
 * backoff, a write answered LEADER_UNAVAILABLE after it was applied is retried and applied once, a
 * server behind the client's last zxid is skipped, and reconnectAfterExpiry opens a new session.
 */
class RetryAndRecoveryTest {
  @TempDir Path dir;

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  static SynodClient connect(LocalServers servers, Duration timeout, RetryPolicy retry) throws InterruptedException {
    SynodClient c = Faults.build(SynodClient.builder().connectString(servers.connectString()).sessionTimeout(timeout)
        .retryPolicy(retry)).start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
    return c;
  }

  @Test
  void overloadedWritesAreRetriedWithBackoffInsteadOfFailing() throws Exception {
    // One write may wait for the log at a time: a burst of 40 mostly meets OVERLOADED.
    try (LocalServers server = new LocalServers(dir, 1, "--pending-writes-max", "1");
         SynodClient patient = connect(server, Duration.ofSeconds(5), RetryPolicy.defaultPolicy());
         SynodClient impatient = connect(server, Duration.ofSeconds(5),
             RetryPolicy.exponential(Duration.ofMillis(1), Duration.ofMillis(1), 1))) {
      patient.create("/burst", b(""));

      // Without retries the caller sees OVERLOADED: the burst really overloads the server.
      List<CompletableFuture<CreateResult>> raw = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        raw.add(impatient.createAsync("/burst/raw-", b(""), CreateOptions.PERSISTENT.sequential()));
      }
      int overloaded = 0;
      for (CompletableFuture<CreateResult> f : raw) {
        try {
          f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          // A write behind one that failed is refused too (OUT_OF_ORDER): it must not overtake it.
          ErrorReason reason = ((SynodException) e.getCause()).reason();
          assertTrue(reason == ErrorReason.OVERLOADED || reason == ErrorReason.OUT_OF_ORDER, reason.toString());
          overloaded++;
        }
      }
      assertTrue(overloaded > 0, "the burst should have overloaded the server");

      // With the default policy every write of the same burst lands, each exactly once.
      List<CompletableFuture<CreateResult>> burst = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        burst.add(patient.createAsync("/burst/job-", b("x" + i), CreateOptions.PERSISTENT.sequential()));
      }
      for (CompletableFuture<CreateResult> f : burst) {
        f.get(20, TimeUnit.SECONDS);
      }
      assertTrue(patient.testRetries(ErrorReason.OVERLOADED) > 0, "some writes were refused and retried");
      long jobs = patient.getChildren("/burst").stream().filter(n -> n.startsWith("job-")).count();
      assertEquals(40, jobs);
    }
  }

  @Test
  void writeAnsweredLeaderUnavailableAfterBeingAppliedIsRetriedAndAppliedOnce() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3, "--write-timeout-ms", "600")) {
      int leader = cluster.awaitLeader();
      try (SynodClient other = connect(cluster, Duration.ofSeconds(5), RetryPolicy.defaultPolicy());
           SynodClient client = connect(cluster, Duration.ofSeconds(5), RetryPolicy.defaultPolicy())) {
        client.create("/lu", b(""));
        moveOff(cluster, client, leader);
        int follower = cluster.idOfPort(client.currentServer().getPort());
        moveOff(cluster, other, follower); // it checks what the rest of the cluster applied
        other.sync(); // its server has applied /lu (another session's write) before it looks

        // The follower forwards the write (its messages still go out) but hears nothing back:
        // the leader applies it, the follower times out and answers LEADER_UNAVAILABLE.
        cluster.deafen(follower, true);
        CompletableFuture<CreateResult> write =
            client.createAsync("/lu/job-", b("once"), CreateOptions.PERSISTENT.sequential());
        Eventually.eventually(Duration.ofSeconds(10), "!other.getChildren(\"/lu\").isEmpty()", () -> !other.getChildren("/lu").isEmpty());
        assertEquals(1, other.getChildren("/lu").size(), "the leader applied the write");
        CreateResult created = write.get(15, TimeUnit.SECONDS);
        cluster.deafen(follower, false);

        assertTrue(client.testRetries(ErrorReason.LEADER_UNAVAILABLE) >= 1, "the write was answered LEADER_UNAVAILABLE");
        assertNotEquals(follower, cluster.idOfPort(client.currentServer().getPort()));
        assertEquals(List.of(created.path().substring("/lu/".length())), other.getChildren("/lu"),
            "applied exactly once, and the caller got the path that was created");
      }
    }
  }

  @Test
  void serverBehindTheClientsLastZxidIsSkippedOnReconnect() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      int leader = cluster.awaitLeader();
      try (SynodClient client = connect(cluster, Duration.ofSeconds(5), RetryPolicy.defaultPolicy())) {
        client.create("/ahead", b("0"));
        int connected = cluster.idOfPort(client.currentServer().getPort());
        int behind = 1;
        while (behind == connected || behind == leader) {
          behind++;
        }
        // It knows the session, then falls behind while the client writes through the others.
        awaitApplied(cluster, behind, client.lastZxidSeen());
        cluster.deafen(behind, true);
        for (int i = 1; i <= 5; i++) {
          client.setData("/ahead", b(Integer.toString(i)), -1);
        }
        assertTrue(cluster.nodes[behind].state().lastZxid() < client.lastZxidSeen());

        // Drop the connection until the client has tried the lagging server (at most a few rounds).
        for (int round = 0; round < 6 && client.testRetries(ErrorReason.SESSION_ZXID_AHEAD) == 0; round++) {
          Faults.of(client).disconnect();
          Thread.sleep(50); // the client notices the drop before blockUntilConnected (it may still say connected)
          assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
          awaitServer(client);
          assertNotEquals(behind, cluster.idOfPort(client.currentServer().getPort()), "never on the lagging server");
          assertEquals("5", new String(client.getData("/ahead").data(), UTF_8), "never reads older state");
        }
        assertTrue(client.testRetries(ErrorReason.SESSION_ZXID_AHEAD) >= 1, "the lagging server refused the resume");
        cluster.deafen(behind, false);
      }
    }
  }

  @Test
  void reconnectAfterExpiryOpensANewSessionAndKeepsWorking() throws Exception {
    try (LocalServers server = new LocalServers(dir, 1);
         SynodClient other = connect(server, Duration.ofSeconds(5), RetryPolicy.defaultPolicy())) {
      List<ConnectionState> states = new CopyOnWriteArrayList<>();
      try (SynodClient client = Faults.build(SynodClient.builder().connectString(server.connectString())
          .sessionTimeout(Duration.ofMillis(800)).reconnectAfterExpiry(true)
          .connectionStateListener((c, s) -> states.add(s))).start()) {
        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        long first = client.sessionId();
        client.create("/mine", b(""), CreateOptions.of(NodeKind.EPHEMERAL));
        java.util.concurrent.BlockingQueue<WatchedEvent> events = new java.util.concurrent.LinkedBlockingQueue<>();
        client.addWatch("/watched", false, false, events::add);

        Faults.of(client).partition(true);
        Eventually.eventually(Duration.ofSeconds(10), "client.state() == ConnectionState.EXPIRED", () -> client.state() == ConnectionState.EXPIRED);
        assertEquals(ConnectionState.EXPIRED, client.state());
        Faults.of(client).partition(false);

        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        assertNotEquals(first, client.sessionId());
        // The client gave the old session up by itself; the server expires it on its own clock, about then.
        Eventually.eventually(Duration.ofSeconds(5), "other.exists(\"/mine\") == null", () -> other.exists("/mine") == null);
        assertNull(other.exists("/mine"), "the old session's ephemeral is gone");
        client.create("/mine", b("again"), CreateOptions.of(NodeKind.EPHEMERAL));
        assertEquals(client.sessionId(), other.exists("/mine").getEphemeralOwner());
        other.create("/watched", b(""));
        assertEquals("/watched", events.poll(5, TimeUnit.SECONDS).path(), "the persistent watch lives on in the new session");
        assertEquals(ConnectionState.EXPIRED, states.get(states.size() - 2), "states: " + states);
        assertEquals(ConnectionState.CONNECTED, states.get(states.size() - 1), "states: " + states);
      }
    }
  }

  /** Moves the client off server {@code id} if it is connected there. */
  private static void moveOff(LocalServers cluster, SynodClient client, int id) throws InterruptedException {
    for (int i = 0; i < 5 && cluster.idOfPort(client.currentServer().getPort()) == id; i++) {
      Faults.of(client).disconnect();
      Thread.sleep(50); // the client notices the drop before blockUntilConnected (it may still say connected)
      assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
      awaitServer(client);
    }
    assertNotEquals(id, cluster.idOfPort(client.currentServer().getPort()));
  }

  private static void awaitApplied(LocalServers cluster, int id, long zxid) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(10), "cluster.nodes[id].state().lastZxid() >= zxid", () -> cluster.nodes[id].state().lastZxid() >= zxid);
    assertTrue(cluster.nodes[id].state().lastZxid() >= zxid);
  }

  /** Waits until the client has an open stream again. */
  private static void awaitServer(SynodClient client) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(10), "client.currentServer() != null", () -> client.currentServer() != null);
    assertNotNull(client.currentServer());
  }
}
