package dev.synod.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.OpResult;
import dev.synod.api.v1.Stat;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every operation and its typed errors against one real server over loopback. */
class SingleServerTest {
  @TempDir static Path dir;
  static LocalServers server;
  static SynodClient client;

  @BeforeAll
  static void up() throws Exception {
    server = new LocalServers(dir, 1, "--children-page-max", "10");
    client = connect(Duration.ofSeconds(5));
  }

  @AfterAll
  static void down() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  static SynodClient connect(Duration timeout) throws InterruptedException {
    SynodClient c = SynodClient.builder().connectString(server.connectString()).sessionTimeout(timeout).build().start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
    return c;
  }

  static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void crudWithVersionsAndTypedErrors() {
    assertEquals("/crud", client.create("/crud", b("v0")));
    NodeData d = client.getData("/crud");
    assertEquals("v0", new String(d.data(), UTF_8));
    assertEquals(0, d.stat().getVersion());

    Stat s = client.setData("/crud", b("v1"), 0);
    assertEquals(1, s.getVersion());
    assertThrows(BadVersionException.class, () -> client.setData("/crud", b("v2"), 0));
    assertEquals(2, client.setData("/crud", b("v2"), -1).getVersion());

    assertThrows(NodeExistsException.class, () -> client.create("/crud", b("")));
    NoNodeException missing = assertThrows(NoNodeException.class, () -> client.getData("/nope"));
    assertEquals(ErrorReason.NO_NODE, missing.reason());
    assertThrows(NoNodeException.class, () -> client.create("/nope/child", b("")));
    assertThrows(InvalidPathException.class, () -> client.create("no-slash", b("")));
    assertThrows(InvalidPathException.class, () -> client.getData("/a//b"));

    client.create("/crud/child", b(""));
    assertThrows(NotEmptyException.class, () -> client.delete("/crud", -1));
    assertThrows(BadVersionException.class, () -> client.delete("/crud/child", 7));
    client.delete("/crud/child", 0);
    client.delete("/crud", 2);
    assertNull(client.exists("/crud"));
    assertThrows(NoNodeException.class, () -> client.delete("/crud", -1));
  }

  @Test
  void everyKindSequentialTtlAndAcl() {
    client.create("/kinds", b(""));
    CreateResult seq1 = client.create("/kinds/job-", b(""), CreateOptions.PERSISTENT.sequential());
    CreateResult seq2 = client.create("/kinds/job-", b(""), CreateOptions.PERSISTENT.sequential());
    assertTrue(seq1.path().matches("/kinds/job-\\d{10}"), seq1.path());
    assertTrue(seq2.path().compareTo(seq1.path()) > 0);

    CreateResult eph = client.create("/kinds/eph", b("x"), CreateOptions.of(NodeKind.EPHEMERAL));
    assertEquals(client.sessionId(), eph.stat().getEphemeralOwner());
    assertEquals(NodeKind.EPHEMERAL, eph.stat().getKind());
    SynodException noKids = assertThrows(SynodException.class, () -> client.create("/kinds/eph/c", b("")));
    assertEquals(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS, noKids.reason());

    assertEquals(NodeKind.CONTAINER, client.create("/kinds/box", b(""), CreateOptions.of(NodeKind.CONTAINER)).stat().getKind());
    CreateResult ttl = client.create("/kinds/ttl", b(""), CreateOptions.ttl(Duration.ofMinutes(1)));
    assertEquals(60_000, ttl.stat().getTtlMs());
    SynodException badTtl = assertThrows(SynodException.class,
        () -> client.create("/kinds/ttl2", b(""), CreateOptions.of(NodeKind.TTL)));
    assertEquals(ErrorReason.INVALID_TTL, badTtl.reason());

    Acl readOnly = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1).build();
    client.create("/kinds/acl", b(""), CreateOptions.PERSISTENT.withAcl(List.of(readOnly)));
    assertEquals(List.of(readOnly), client.getAcl("/kinds/acl"));
    Acl all = readOnly.toBuilder().setPerms(31).build();
    assertThrows(NoAuthException.class, () -> client.setAcl("/kinds/acl", List.of(all), 0),
        "read-only: no ADMIN");
    Acl readAdmin = readOnly.toBuilder().setPerms(1 | 16).build();
    client.create("/kinds/acl2", b(""), CreateOptions.PERSISTENT.withAcl(List.of(readAdmin)));
    assertEquals(1, client.setAcl("/kinds/acl2", List.of(all), 0).getAversion());
    assertThrows(BadVersionException.class, () -> client.setAcl("/kinds/acl2", List.of(all), 0));
    assertEquals(List.of(all), client.getAcl("/kinds/acl2"));
  }

  @Test
  void childrenArePagedAndFetchedWhole() {
    client.create("/many", b(""));
    for (int i = 0; i < 25; i++) {
      client.createAsync(String.format("/many/c%02d", i), b(""), CreateOptions.PERSISTENT);
    }
    client.sync();
    List<String> all = client.getChildren("/many");
    assertEquals(25, all.size());
    assertEquals("c00", all.get(0));
    assertEquals("c24", all.get(24));
    ChildrenPage first = client.getChildrenPage("/many", 10, "");
    assertEquals(10, first.children().size());
    assertFalse(first.nextCursor().isEmpty());
    ChildrenPage second = client.getChildrenPage("/many", 10, first.nextCursor());
    assertEquals("c10", second.children().get(0));
    assertThrows(NoNodeException.class, () -> client.getChildren("/none"));
  }

  @Test
  void multiAppliesAllOrNothing() {
    client.create("/m", b("0"));
    List<OpResult> ok = client.multi(List.of(
        Op.check("/m", 0), Op.create("/m/a", b("a")), Op.setData("/m", b("1"), 0)));
    assertEquals(3, ok.size());
    assertEquals("/m/a", ok.get(1).getCreate().getPath());

    MultiFailedException e = assertThrows(MultiFailedException.class, () -> client.multi(List.of(
        Op.create("/m/b", b("")), Op.check("/m", 0), Op.delete("/m/a", -1))));
    assertEquals(1, e.failedIndex());
    assertEquals(ErrorReason.BAD_VERSION, e.reason());
    assertInstanceOf(BadVersionException.class, e.failure());
    assertEquals(3, e.results().size());
    assertNull(client.exists("/m/b"));
    assertNotNull(client.exists("/m/a"));
  }

  @Test
  void syncStatusAndAsyncErrors() throws Exception {
    long zxid = client.sync();
    assertTrue(zxid > 0);
    assertEquals("standalone".equals(client.status().getRole()) || "leader".equals(client.status().getRole()), true);
    CompletableFuture<NodeData> f = client.getDataAsync("/absent", null);
    CompletionException e = assertThrows(CompletionException.class, f::join);
    assertInstanceOf(NoNodeException.class, e.getCause());
    assertEquals("/async", client.createAsync("/async", b(""), CreateOptions.PERSISTENT).get(5, TimeUnit.SECONDS).path());
  }

  @Test
  void oneShotWatchersFireOnce() throws Exception {
    BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
    client.create("/w", b(""));
    client.getData("/w", events::add);
    client.exists("/w-new", events::add);
    client.getChildren("/w", events::add);
    client.setData("/w", b("1"), -1);
    WatchedEvent data = events.poll(5, TimeUnit.SECONDS);
    assertEquals(EventType.NODE_DATA_CHANGED, data.type());
    assertEquals("/w", data.path());
    client.setData("/w", b("2"), -1); // the data watcher is gone: no second event
    client.create("/w-new", b(""));
    assertEquals(EventType.NODE_CREATED, events.poll(5, TimeUnit.SECONDS).type());
    client.create("/w/kid", b(""));
    assertEquals(EventType.NODE_CHILDREN_CHANGED, events.poll(5, TimeUnit.SECONDS).type());
    client.sync();
    assertNull(events.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void persistentWatchUntilRemoved() throws Exception {
    BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
    client.create("/p", b(""));
    WatchHandle h = client.addWatch("/p", true, true, events::add);
    client.create("/p/a", b("x"));
    client.setData("/p/a", b("y"), -1);
    WatchedEvent created = events.poll(5, TimeUnit.SECONDS);
    assertEquals(EventType.NODE_CREATED, created.type());
    assertEquals("/p/a", created.path());
    WatchedEvent changed = events.poll(5, TimeUnit.SECONDS);
    assertEquals(EventType.NODE_DATA_CHANGED, changed.type());
    assertEquals("y", new String(changed.data(), UTF_8));
    assertTrue(changed.zxid() > created.zxid());
    h.close();
    client.sync();
    client.create("/p/b", b(""));
    client.sync();
    assertNull(events.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void expiresWhenCutOffAndFailsPendingCalls() throws Exception {
    List<ConnectionState> states = new CopyOnWriteArrayList<>();
    SynodClient c = Faults.build(SynodClient.builder().connectString(server.connectString())
        .sessionTimeout(Duration.ofMillis(400)).connectionStateListener((cl, s) -> states.add(s))).start();
    try {
      assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
      long oldSession = c.sessionId();
      c.create("/cut-eph", b(""), CreateOptions.of(NodeKind.EPHEMERAL));
      Faults.of(c).partition(true); // no heartbeats, nothing sent: the server expires the session
      CompletableFuture<CreateResult> pendingCall = c.createAsync("/cut-other", b(""), CreateOptions.PERSISTENT);
      Eventually.eventually(Duration.ofSeconds(10), "c.state() == ConnectionState.EXPIRED", () -> c.state() == ConnectionState.EXPIRED);
      assertEquals(ConnectionState.EXPIRED, c.state());
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> pendingCall.get(5, TimeUnit.SECONDS));
      assertInstanceOf(SessionExpiredException.class, e.getCause());
      // The client gave the session up by itself; the server expires it on its own clock, about then.
      Eventually.eventually(Duration.ofSeconds(5), "client.exists(\"/cut-eph\") == null", () -> client.exists("/cut-eph") == null);
      assertNull(client.exists("/cut-eph"));
      assertThrows(SessionExpiredException.class, () -> c.getData("/"));

      Faults.of(c).partition(false);
      c.restartSession();
      assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
      assertNotEquals(oldSession, c.sessionId());
      assertNotNull(c.exists("/"));
      // Listeners run on the client's event thread: wait until they heard three states.
      // Cut off, the client first suspends (silence), then expires: SUSPENDED may come in between.
      List<ConnectionState> seen = Eventually.eventually(Duration.ofSeconds(5), "three states besides SUSPENDED",
          () -> states.stream().filter(st -> st != ConnectionState.SUSPENDED).toList(), s -> s.size() >= 3);
      assertEquals(List.of(ConnectionState.CONNECTED, ConnectionState.EXPIRED, ConnectionState.CONNECTED),
          seen.subList(0, 3), "states: " + states);
    } finally {
      c.close();
    }
  }

  /**
   * Synchronous calls hand their answer straight from the client's loop to the caller; the
   * asynchronous futures must still complete elsewhere, so code chained to them may block on
   * further calls of the same client (on the loop that would deadlock).
   */
  @Test
  void codeChainedToAnAsyncCallMayMakeSynchronousCalls() throws Exception {
    client.create("/chained", b("a"));
    CompletableFuture<String> chained = client.getDataAsync("/chained", null).thenApply(first -> {
      client.setData("/chained", b("b"), first.stat().getVersion());
      return new String(client.getData("/chained").data(), UTF_8);
    });
    assertEquals("b", chained.get(10, TimeUnit.SECONDS));
    assertNotEquals("synod-client-loop",
        client.existsAsync("/chained", null).thenApply(s -> Thread.currentThread().getName())
            .get(10, TimeUnit.SECONDS));
  }

  /** A request on a client whose start() was forgotten connects it, instead of waiting forever. */
  @Test
  void aRequestOnAClientNotStartedConnectsIt() throws Exception {
    try (SynodClient c = SynodClient.builder().connectString(server.connectString()).build()) {
      CompletableFuture<String> created = CompletableFuture.supplyAsync(() -> c.create("/not-started", b("x")));
      assertEquals("/not-started", created.get(20, java.util.concurrent.TimeUnit.SECONDS));
    }
  }
}
