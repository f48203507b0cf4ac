package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.client.NoAuthException;
import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import dev.synod.server.auth.DigestAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every recipe that creates nodes gives them the ACL it was handed: the nodes carry it, a session
 * without the identity it names cannot read, change, re-ACL, delete or join them (NO_AUTH), and the
 * recipe goes on working for sessions that have the identity. Without an ACL the nodes stay open.
 */
class RecipeAclTest {
  private static final int ALL = 31;
  private static final int READ = 1;
  private static final List<Acl> ALICE_ONLY = List.of(Acl.newBuilder().setScheme("digest")
      .setId(DigestAuth.digest("alice:alice-pw")).setPerms(ALL).build());
  private static final List<Acl> OPEN = List.of(Acl.newBuilder().setScheme("world").setId("anyone")
      .setPerms(ALL).build());

  @TempDir static Path dir;
  static RecipeTestCluster server;
  /** Alice's session: the owner of every recipe here. */
  static SynodClient alice;
  /** Another session proving alice's identity (a second process of the same owner). */
  static SynodClient alice2;
  /** An anonymous session. */
  static SynodClient intruder;
  static ExecutorService pool;

  @BeforeAll
  static void up() throws Exception {
    server = new RecipeTestCluster(dir, 1);
    alice = connect(SynodClient.builder().digest("alice", "alice-pw"));
    alice2 = connect(SynodClient.builder().digest("alice", "alice-pw"));
    intruder = connect(SynodClient.builder());
    pool = Executors.newCachedThreadPool();
  }

  private static SynodClient connect(SynodClient.Builder builder) throws InterruptedException {
    SynodClient c = builder.connectString(server.connectString()).sessionTimeout(Duration.ofSeconds(5))
        .build().start();
    assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)), "client connects");
    return c;
  }

  @AfterAll
  static void down() {
    if (pool != null) {
      pool.shutdownNow();
    }
    for (SynodClient c : new SynodClient[] {alice, alice2, intruder}) {
      if (c != null) {
        c.close();
      }
    }
    if (server != null) {
      server.close();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Locks and elections

  @Test
  void mutex() throws Exception {
    Mutex mutex = new Mutex(alice, "/m/orders", ALICE_ONLY);
    try (Lease lease = mutex.acquire()) {
      assertAclOf(ALICE_ONLY, "/m", "/m/orders", lease.nodePath());
      assertLockedOut("/m/orders", lease.nodePath());
      assertThrows(NoAuthException.class, () -> new Mutex(intruder, "/m/orders").tryAcquire(Duration.ZERO));
      assertTrue(lease.isValid(), "the holder keeps the lock");
    }
    // Another session with alice's identity takes it next.
    try (Lease again = new Mutex(alice2, "/m/orders", ALICE_ONLY).tryAcquire(Duration.ofSeconds(10)).orElseThrow()) {
      assertAclOf(ALICE_ONLY, again.nodePath());
    }
  }

  @Test
  void readWriteLock() throws Exception {
    SharedReadWriteLock lock = new SharedReadWriteLock(alice, "/rw/doc", ALICE_ONLY);
    try (Lease read = lock.readLock().acquire()) {
      assertAclOf(ALICE_ONLY, "/rw", "/rw/doc", read.nodePath());
      assertLockedOut("/rw/doc", read.nodePath());
      SharedReadWriteLock theirs = new SharedReadWriteLock(intruder, "/rw/doc");
      assertThrows(NoAuthException.class, () -> theirs.writeLock().tryAcquire(Duration.ZERO));
      assertThrows(NoAuthException.class, () -> theirs.readLock().tryAcquire(Duration.ZERO));
      assertTrue(read.isValid());
    }
    try (Lease write = new SharedReadWriteLock(alice2, "/rw/doc", ALICE_ONLY).writeLock()
        .tryAcquire(Duration.ofSeconds(10)).orElseThrow()) {
      assertAclOf(ALICE_ONLY, write.nodePath());
    }
  }

  @Test
  void semaphore() throws Exception {
    SharedSemaphore semaphore = new SharedSemaphore(alice, "/sem/pool", 1, ALICE_ONLY);
    Lease held = semaphore.acquire();
    // A second holder of alice's identity queues on the gate while the one permit is taken.
    Future<Optional<Lease>> waiter = pool.submit(
        () -> new SharedSemaphore(alice2, "/sem/pool", 1, ALICE_ONLY).tryAcquire(Duration.ofSeconds(20)));
    awaitTrue(() -> alice.exists("/sem/pool/gate") != null && !alice.getChildren("/sem/pool/gate").isEmpty(),
        "the second acquirer waits holding the gate");
    String gateNode = "/sem/pool/gate/" + alice.getChildren("/sem/pool/gate").get(0);
    assertAclOf(ALICE_ONLY, "/sem", "/sem/pool", "/sem/pool/leases", held.nodePath(), "/sem/pool/gate", gateNode);
    assertLockedOut("/sem/pool/leases", held.nodePath());
    assertLockedOut("/sem/pool/gate", gateNode);
    assertThrows(NoAuthException.class, () -> new SharedSemaphore(intruder, "/sem/pool", 1).tryAcquire(Duration.ZERO));
    assertTrue(held.isValid());
    held.close();
    try (Lease next = waiter.get(20, TimeUnit.SECONDS).orElseThrow()) {
      assertAclOf(ALICE_ONLY, next.nodePath());
    }
  }

  @Test
  void leaderLatch() throws Exception {
    try (LeaderLatch latch = new LeaderLatch(alice, "/latch/svc", "alice-1", ALICE_ONLY)) {
      latch.start();
      assertTrue(latch.await(Duration.ofSeconds(10)));
      String node = "/latch/svc/" + alice.getChildren("/latch/svc").get(0);
      assertAclOf(ALICE_ONLY, "/latch", "/latch/svc", node);
      assertLockedOut("/latch/svc", node);
      try (LeaderLatch theirs = new LeaderLatch(intruder, "/latch/svc", "intruder")) {
        assertThrows(NoAuthException.class, theirs::participants);
      }
      assertTrue(latch.hasLeadership(), "still the leader");
      assertEquals(Optional.of("alice-1"), latch.currentLeader());
    }
  }

  @Test
  void leaderSelector() throws Exception {
    CountDownLatch leading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (LeaderSelector selector = new LeaderSelector(alice, "/sel/svc", "alice-1", leadership -> {
      leading.countDown();
      release.await();
    }, ALICE_ONLY)) {
      selector.start();
      assertTrue(leading.await(10, TimeUnit.SECONDS));
      String node = "/sel/svc/" + alice.getChildren("/sel/svc").get(0);
      assertArrayEquals(bytes("alice-1"), alice.getData(node).data());
      assertAclOf(ALICE_ONLY, "/sel", "/sel/svc", node);
      assertLockedOut("/sel/svc", node);
      assertTrue(selector.hasLeadership());
      release.countDown();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Barriers, queue, counter, service registry

  @Test
  void barrier() throws Exception {
    DistributedBarrier barrier = new DistributedBarrier(alice, "/bar/deploy/gate", ALICE_ONLY);
    barrier.setBarrier();
    assertAclOf(ALICE_ONLY, "/bar", "/bar/deploy", "/bar/deploy/gate");
    assertLockedOut("/bar/deploy", "/bar/deploy/gate");
    DistributedBarrier theirs = new DistributedBarrier(intruder, "/bar/deploy/gate");
    assertThrows(NoAuthException.class, theirs::removeBarrier);
    assertTrue(theirs.isSet(), "exists needs no permission: anyone may wait on the barrier");
    assertFalse(theirs.waitOnBarrier(Duration.ofMillis(50)));
    new DistributedBarrier(alice2, "/bar/deploy/gate", ALICE_ONLY).removeBarrier();
    assertTrue(theirs.waitOnBarrier(Duration.ofSeconds(10)));
  }

  @Test
  void doubleBarrier() throws Exception {
    DoubleBarrier mine = new DoubleBarrier(alice, "/dbl/round", 2, "a", ALICE_ONLY);
    DoubleBarrier other = new DoubleBarrier(alice2, "/dbl/round", 2, "b", ALICE_ONLY);
    Future<Boolean> entering = pool.submit(() -> mine.enter(Duration.ofSeconds(20)));
    assertTrue(other.enter(Duration.ofSeconds(20)));
    assertTrue(entering.get(20, TimeUnit.SECONDS));
    assertAclOf(ALICE_ONLY, "/dbl", "/dbl/round", "/dbl/round/a", "/dbl/round/b", "/dbl/round/ready");
    assertLockedOut("/dbl/round", "/dbl/round/a");
    assertLockedOut("/dbl/round", "/dbl/round/ready");
    assertThrows(NoAuthException.class, () -> new DoubleBarrier(intruder, "/dbl/round", 2, "x").enter(Duration.ZERO));
    Future<Boolean> leaving = pool.submit(() -> mine.leave(Duration.ofSeconds(20)));
    assertTrue(other.leave(Duration.ofSeconds(20)));
    assertTrue(leaving.get(20, TimeUnit.SECONDS));
    assertEquals(List.of(), alice.getChildren("/dbl/round"));
  }

  @Test
  void queue() throws Exception {
    DistributedQueue queue = new DistributedQueue(alice, "/q/jobs", ALICE_ONLY);
    String item = queue.offer(bytes("job-1"));
    assertAclOf(ALICE_ONLY, "/q", "/q/jobs", item);
    assertLockedOut("/q/jobs", item);
    DistributedQueue theirs = new DistributedQueue(intruder, "/q/jobs");
    assertThrows(NoAuthException.class, theirs::poll);
    assertThrows(NoAuthException.class, () -> theirs.offer(bytes("forged")));
    assertArrayEquals(bytes("job-1"), new DistributedQueue(alice2, "/q/jobs", ALICE_ONLY).poll(Duration.ofSeconds(10)));
    assertEquals(0, queue.size());
  }

  @Test
  void counterReadableByAllButWrittenByAliceOnly() throws Exception {
    List<Acl> aliceWritesAllRead = List.of(ALICE_ONLY.get(0),
        Acl.newBuilder().setScheme("world").setId("anyone").setPerms(READ).build());
    try (SharedCounter counter = new SharedCounter(alice, "/cnt/hits", 5, aliceWritesAllRead).start()) {
      assertEquals(6, counter.increment());
      assertAclOf(aliceWritesAllRead, "/cnt", "/cnt/hits");
      SharedCounter theirs = new SharedCounter(intruder, "/cnt/hits", 0);
      assertEquals(6, theirs.get(), "world may read");
      assertThrows(NoAuthException.class, () -> theirs.set(100));
      assertThrows(NoAuthException.class, theirs::increment);
      assertThrows(NoAuthException.class, () -> intruder.delete("/cnt/hits", -1));
      assertThrows(NoAuthException.class, () -> intruder.setAcl("/cnt/hits", OPEN, -1));
      assertEquals(7, new SharedCounter(alice2, "/cnt/hits", 0, aliceWritesAllRead).increment());
      assertEquals(7, counter.get());
    }
  }

  @Test
  void serviceRegistry() throws Exception {
    try (ServiceRegistry registry = new ServiceRegistry(alice, "/svc", ALICE_ONLY)) {
      registry.register(new ServiceInstance("api", "a1", "10.0.0.1:80"));
      assertAclOf(ALICE_ONLY, "/svc", "/svc/api", "/svc/api/a1");
      assertLockedOut("/svc/api", "/svc/api/a1");
      try (ServiceRegistry theirs = new ServiceRegistry(intruder, "/svc")) {
        assertThrows(NoAuthException.class, () -> theirs.register(new ServiceInstance("api", "evil", "6.6.6.6:80")));
      }
      assertThrows(NoAuthException.class, () -> new ServiceDiscovery(intruder, "/svc").instances("api"));
      registry.update(new ServiceInstance("api", "a1", "10.0.0.2:80"));
      assertEquals(List.of("10.0.0.2:80"),
          new ServiceDiscovery(alice2, "/svc").instances("api").stream().map(ServiceInstance::address).toList());
    }
  }

  // -------------------------------------------------------------------------------------------
  // Background work refused by an ACL

  @Test
  void aLatchAndACacheRefusedByTheAclSayWhy() throws Exception {
    new DistributedQueue(alice, "/refused/q", ALICE_ONLY).offer(bytes("x"));
    try (LogRecords latchLog = new LogRecords(LeaderLatch.class);
        LogRecords cacheLog = new LogRecords(CachedTree.class);
        LeaderLatch latch = new LeaderLatch(intruder, "/refused/q", "intruder");
        NodeCache cache = new NodeCache(intruder, "/refused/q")) {
      latch.start();
      cache.start();
      latchLog.awaitWarning("/refused/q");
      cacheLog.awaitWarning("/refused/q");
      assertFalse(latch.hasLeadership());
    }
  }

  /** The records one recipe class logs while open. */
  private static final class LogRecords extends Handler implements AutoCloseable {
    private final Logger logger;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    LogRecords(Class<?> source) {
      this.logger = Logger.getLogger(source.getName());
      logger.addHandler(this);
    }

    void awaitWarning(String mentioning) throws InterruptedException {
      awaitTrue(() -> records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
          && r.getMessage().contains(mentioning) && r.getMessage().contains("not authorized")),
          "a warning about " + mentioning + " from " + logger.getName());
    }

    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
      logger.removeHandler(this);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Defaults and arguments

  @Test
  void withoutAnAclTheNodesStayOpen() throws Exception {
    new DistributedQueue(alice, "/open/q").offer(bytes("x"));
    new DistributedBarrier(alice, "/open/b").setBarrier();
    try (Lease lease = new Mutex(alice, "/open/m").acquire()) {
      assertAclOf(OPEN, "/open", "/open/q", "/open/b", "/open/m", lease.nodePath());
      assertEquals(1, intruder.getChildren("/open/q").size());
    }
  }

  @Test
  void aNullAclIsRefusedAtConstruction() {
    assertThrows(IllegalArgumentException.class, () -> new DistributedQueue(alice, "/x", null));
    List<Acl> withNull = new ArrayList<>();
    withNull.add(null);
    assertThrows(IllegalArgumentException.class, () -> new Mutex(alice, "/x", withNull));
  }

  // -------------------------------------------------------------------------------------------

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  private static void assertAclOf(List<Acl> want, String... paths) {
    for (String p : paths) {
      assertEquals(want, alice.getAcl(p), "ACL of " + p);
    }
  }

  /**
   * The anonymous session can neither read, change, re-ACL nor delete {@code node}, nor list or
   * add to {@code parent} (delete and create are checked on the parent, as in ZooKeeper).
   */
  private static void assertLockedOut(String parent, String node) {
    List<Executable> tampering = List.of(
        () -> intruder.getData(node),
        () -> intruder.setData(node, bytes("forged"), -1),
        () -> intruder.setAcl(node, OPEN, -1),
        () -> intruder.delete(node, -1),
        () -> intruder.getChildren(parent),
        () -> intruder.create(parent + "/intruder", new byte[0]));
    for (Executable t : tampering) {
      assertThrows(NoAuthException.class, t, node);
    }
    assertTrue(intruder.exists(node) != null, node + " is untouched");
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(20), what, condition);
  }
}
