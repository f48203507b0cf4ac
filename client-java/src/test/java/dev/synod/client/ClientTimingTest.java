package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.Stat;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's time-dependent behaviour, driven by a fake clock ({@link ManualClientLoop})
 * against a scripted in-process server: per-call deadlines, reconnect backoff, leaving a silent
 * server, and local session expiry. Nothing here waits for real time to pass.
 */
class ClientTimingTest {
  private final ManualClientLoop loop = new ManualClientLoop();
  private ScriptedServer server;
  private SynodClient client;

  private SynodClient connect(SynodClient.Builder builder) throws Exception {
    server = new ScriptedServer("timing-" + UUID.randomUUID());
    client = builder.connectString(server.name + ":1").sessionTimeout(Duration.ofSeconds(3))
        .channelFactory(ScriptedServer.channels()).loop(loop).build().start();
    loop.awaitTrue("connected", () -> client.state() == ConnectionState.CONNECTED);
    return client;
  }

  private SynodClient connect() throws Exception {
    return connect(SynodClient.builder());
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private static Throwable failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    return e.getCause();
  }

  /** The linearizable view's reads carry the flag; the plain client's and writes do not. */
  @Test
  void theLinearizableViewAsksForLinearizableReads() throws Exception {
    connect();
    SynodClient lin = client.linearizable();
    assertTrue(lin.isLinearizable());
    assertFalse(client.isLinearizable());
    assertTrue(lin.withDeadline(Duration.ofSeconds(5)).isLinearizable(), "kept by a deadline view");
    CompletableFuture<Stat> plain = client.existsAsync("/p", null);
    CompletableFuture<Stat> linear = lin.existsAsync("/l", null);
    loop.awaitTrue("both answered", () -> plain.isDone() && linear.isDone());
    var byPath = new java.util.HashMap<String, Boolean>();
    for (var r : server.requests) {
      if (r.hasExists()) {
        byPath.put(r.getExists().getPath(), r.getExists().getLinearizable());
      }
    }
    assertEquals(java.util.Map.of("/p", false, "/l", true), byPath);
  }

  @Test
  void callNotAnsweredByItsDeadlineFailsThenAndIsNeverSentAgain() throws Exception {
    connect();
    server.answerRequests = false;
    CompletableFuture<Stat> call = client.withDeadline(Duration.ofMillis(500)).existsAsync("/a", null);
    loop.awaitTrue("the request reached the server", () -> server.requests.size() == 1);
    long number = server.requests.get(0).getRequestNo();

    loop.advance(Duration.ofMillis(499));
    assertFalse(call.isDone(), "not before its deadline");
    loop.advance(Duration.ofMillis(1));
    Throwable t = failure(call);
    assertInstanceOf(DeadlineExceededException.class, t);
    assertTrue(t.getMessage().contains("/a") && t.getMessage().contains("500 ms"), t.getMessage());
    assertEquals("/a", ((SynodException) t).path());

    // A new stream re-sends every unanswered request: the one past its deadline is not among them.
    server.answerRequests = true;
    server.breakStreams();
    loop.awaitTrue("suspended", () -> client.state() == ConnectionState.SUSPENDED);
    loop.advance(Duration.ofSeconds(1));
    loop.awaitTrue("resumed", () -> client.state() == ConnectionState.RECONNECTED);
    assertNull(client.existsAsync("/b", null).get(5, TimeUnit.SECONDS));
    assertEquals(1, server.received(number), "the request past its deadline was sent again");
  }

  @Test
  void oneServerClientFailsACallAtItsDeadlineWhileDisconnected() throws Exception {
    connect();
    server.refuseStreams = true;
    server.breakStreams();
    loop.awaitTrue("suspended", () -> client.state() == ConnectionState.SUSPENDED);

    CompletableFuture<Stat> call = client.withDeadline(Duration.ofMillis(800)).existsAsync("/held", null);
    loop.advance(Duration.ofMillis(799));
    assertFalse(call.isDone());
    loop.advance(Duration.ofMillis(1));
    assertInstanceOf(DeadlineExceededException.class, failure(call));

    server.refuseStreams = false;
    loop.advance(Duration.ofMillis(700)); // the next reconnect attempt (backoff capped at timeout/5)
    loop.awaitTrue("resumed", () -> client.state() == ConnectionState.RECONNECTED);
    assertTrue(server.requests.stream().noneMatch(r -> r.getExists().getPath().equals("/held")),
        "a call past its deadline must not be sent later");
  }

  @Test
  void defaultDeadlineBoundsEveryCallAndWithoutDeadlineLiftsIt() throws Exception {
    connect(SynodClient.builder().defaultDeadline(Duration.ofMillis(200)));
    assertEquals(Duration.ofMillis(200), client.deadline().orElseThrow());
    server.answerRequests = false;
    CompletableFuture<Stat> bounded = client.existsAsync("/x", null);
    CompletableFuture<Stat> unbounded = client.withoutDeadline().existsAsync("/y", null);
    loop.awaitTrue("both sent", () -> server.requests.size() == 2);
    loop.advance(Duration.ofMillis(200));
    assertInstanceOf(DeadlineExceededException.class, failure(bounded));
    loop.advance(Duration.ofSeconds(1));
    assertFalse(unbounded.isDone(), "a call without a deadline waits");
    // The synchronous form throws the same exception, for a write naming the unknown outcome.
    DeadlineExceededException e = assertThrows(DeadlineExceededException.class, () -> {
      CompletableFuture<Void> done = CompletableFuture.runAsync(() -> client.delete("/z", -1));
      loop.awaitTrue("delete sent", () -> server.requests.size() == 3);
      loop.advance(Duration.ofMillis(200));
      try {
        done.get(5, TimeUnit.SECONDS);
      } catch (ExecutionException x) {
        throw (RuntimeException) x.getCause();
      }
    });
    assertTrue(e.getMessage().contains("may or may not have applied"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> client.withDeadline(Duration.ZERO));
  }

  @Test
  void reconnectAfterAFailedRoundWaitsForTheRetryPolicysBackoff() throws Exception {
    // 400 ms with full jitter: between 200 and 400 ms (under the session's cap of timeout/5).
    connect(SynodClient.builder().retryPolicy(RetryPolicy.exponential(Duration.ofMillis(400), Duration.ofMillis(400), 20)));
    server.refuseStreams = true;
    server.breakStreams();
    loop.awaitTrue("suspended", () -> client.state() == ConnectionState.SUSPENDED);
    int streams = server.streamsStarted.get();

    loop.advance(Duration.ofMillis(199));
    assertEquals(streams, server.streamsStarted.get(), "reconnected before the backoff");
    loop.advance(Duration.ofMillis(201));
    loop.awaitTrue("a second attempt", () -> server.streamsStarted.get() == streams + 1);
  }

  @Test
  void silentServerIsLeftAtTwoThirdsOfTheTimeoutAndTheSessionExpiresLocallyAfterIt() throws Exception {
    connect();
    server.answerHeartbeats = false;
    server.answerRequests = false;
    server.refuseStreams = true; // no other server will take the session either
    CompletableFuture<Stat> pending = client.existsAsync("/p", null);

    loop.advance(Duration.ofMillis(1900));
    assertEquals(ConnectionState.CONNECTED, client.state());
    assertTrue(server.heartbeats.get() > 0, "heartbeats were sent while silent");
    loop.advance(Duration.ofMillis(200)); // past 2/3 of 3 s with nothing heard
    assertEquals(ConnectionState.SUSPENDED, client.state());
    assertFalse(pending.isDone(), "a suspended session keeps its calls");

    loop.advance(Duration.ofMillis(800)); // 2.9 s: the session may still live on the servers
    assertEquals(ConnectionState.SUSPENDED, client.state());
    loop.advance(Duration.ofMillis(300)); // past the timeout since the server was last heard
    assertEquals(ConnectionState.EXPIRED, client.state());
    assertInstanceOf(SessionExpiredException.class, failure(pending));
  }

  @Test
  void aDeadlineViewSharesTheSessionAndListenersAreToldOfTheClientItself() throws Exception {
    java.util.concurrent.BlockingQueue<SynodClient> told = new java.util.concurrent.LinkedBlockingQueue<>();
    connect(SynodClient.builder().connectionStateListener((c, state) -> told.add(c)));
    SynodClient view = client.withDeadline(Duration.ofSeconds(1));
    assertEquals(client.sessionId(), view.sessionId());
    assertSame(client, told.poll(5, TimeUnit.SECONDS), "CONNECTED");
    server.breakStreams();
    loop.awaitTrue("suspended", () -> view.state() == ConnectionState.SUSPENDED);
    assertSame(client, told.poll(5, TimeUnit.SECONDS), "SUSPENDED is told of the client, not of a view");
  }

  @Test
  void aServerThatCannotConfirmTheSessionIsLeftForAnotherWhereTheSessionResumes() throws Exception {
    server = new ScriptedServer("timing-a-" + UUID.randomUUID());
    try (ScriptedServer b = new ScriptedServer("timing-b-" + UUID.randomUUID())) {
      client = SynodClient.builder().connectString(server.name + ":1," + b.name + ":1")
          .sessionTimeout(Duration.ofSeconds(3)).channelFactory(ScriptedServer.channels()).loop(loop).build().start();
      loop.awaitTrue("connected", () -> client.state() == ConnectionState.CONNECTED);
      ScriptedServer first = client.currentServer().getHostString().equals(server.name) ? server : b;
      ScriptedServer second = first == server ? b : server;

      first.confirm = false; // cut off from the leader: it still answers, but cannot vouch
      loop.advance(Duration.ofMillis(999));
      assertEquals(first.name, client.currentServer().getHostString(), "no heartbeat before a third of the timeout");
      // The heartbeat goes; its reply says "cannot confirm"; the next server of the round is tried
      // at once (no backoff within a round) and resumes the session.
      loop.advance(Duration.ofMillis(1));
      loop.awaitTrue("moved to the other server",
          () -> client.currentServer() != null && client.currentServer().getHostString().equals(second.name)
              && client.state() == ConnectionState.RECONNECTED);
      assertEquals(1, second.resumes.get(), "the session resumed there, not a new one");
      assertEquals(ScriptedServer.SESSION_ID, client.sessionId());
      assertEquals(1, first.heartbeats.get(), "left after its first unconfirmed reply");
    }
  }
}
