package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ephemeral, container and TTL nodes. */
class NodeKindsTest {
  private static final long OBSERVER = -1;
  private final Harness h = new Harness();

  private List<String> eventsSeenByObserver() {
    return h.recorder.drainFor(OBSERVER).stream()
        .map(e -> e.getType() + " " + e.getPath()).toList();
  }

  // ------------------------------------------------------------------------------- ephemeral

  @Test
  void closingASessionDeletesItsEphemeralsInPathOrderFiresWatchesAndEndsIt() {
    h.openSession(1);
    h.openSession(2);
    h.create("/app");
    h.create(1, 0, createReq("/app/z").setKind(NodeKind.EPHEMERAL));
    h.create(1, 0, createReq("/a").setKind(NodeKind.EPHEMERAL));
    h.create(1, 0, createReq("/app/b").setKind(NodeKind.EPHEMERAL));
    h.create(2, 0, createReq("/app/other").setKind(NodeKind.EPHEMERAL));
    assertOk(h.exists(2, "/app/b", true));
    h.addWatch(OBSERVER, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    h.recorder.drain();

    Response r = h.closeSession(1, true);
    assertOk(r);
    List<Harness.Dispatched> dispatched = h.recorder.drain();
    List<String> observed = dispatched.stream().filter(d -> d.watcherId() == OBSERVER)
        .map(d -> d.event().getType() + " " + d.event().getPath()).toList();
    assertEquals(List.of("NODE_DELETED /a", "NODE_DELETED /app/b", "NODE_DELETED /app/z"),
        observed);
    WatchEvent toSession2 = dispatched.stream().filter(d -> d.watcherId() == 2).findFirst()
        .orElseThrow().event();
    assertEquals(EventType.NODE_DELETED, toSession2.getType());
    assertEquals(List.of(WatchTarget.newBuilder().setPath("/app/b")
        .setKind(WatchKind.WATCH_EXISTS).build()), toSession2.getFiredList());

    assertEquals(List.of(new Harness.Ended(1, true, r.getZxid())), h.recorder.ended);
    assertFalse(h.nodeExists("/a"));
    assertFalse(h.nodeExists("/app/z"));
    assertTrue(h.nodeExists("/app/other"));
    assertTrue(h.sm.session(1).isEmpty());
    assertTrue(h.sm.session(2).isPresent());
    assertEquals(List.of("other"), h.childNames("/app"));
    assertEquals(1, h.stat("/app").getNumChildren());
  }

  @Test
  void closingASessionDropsItsWatchesAndReportsClosedOrExpired() {
    h.openSession(1);
    h.create("/a");
    h.getData(1, "/a", true);
    h.addWatch(1, "/a", WatchKind.WATCH_PERSISTENT);
    assertEquals(2, h.sm.stats().watchCount());
    Response r = h.closeSession(1, false);
    assertEquals(0, h.sm.stats().watchCount());
    assertEquals(List.of(new Harness.Ended(1, false, r.getZxid())), h.recorder.ended);
    h.setData("/a", "x");
    assertEquals(List.of(), h.recorder.drain());
  }

  @Test
  void closingAnUnknownSessionIsSessionExpired() {
    assertError(ErrorReason.SESSION_EXPIRED, h.closeSession(42, false));
    h.openSession(42);
    assertOk(h.closeSession(42, false));
    assertError(ErrorReason.SESSION_EXPIRED, h.closeSession(42, false));
    assertEquals(1, h.recorder.ended.size());
  }

  // ------------------------------------------------------------------------------- container

  @Test
  void aContainerGoesWithItsLastChild() {
    h.create(createReq("/locks").setKind(NodeKind.CONTAINER));
    h.create("/locks/a");
    h.create("/locks/b");
    h.addWatch(OBSERVER, "/", WatchKind.WATCH_PERSISTENT);
    h.addWatch(OBSERVER, "/locks", WatchKind.WATCH_PERSISTENT);
    h.addWatch(OBSERVER, "/locks/b", WatchKind.WATCH_PERSISTENT);
    assertOk(h.delete("/locks/a"));
    assertTrue(h.nodeExists("/locks"), "one child is left");
    eventsSeenByObserver();
    assertOk(h.delete("/locks/b"));
    assertFalse(h.nodeExists("/locks"));
    assertEquals(List.of("NODE_DELETED /locks/b", "NODE_CHILDREN_CHANGED /locks",
        "NODE_DELETED /locks", "NODE_CHILDREN_CHANGED /"), eventsSeenByObserver());
  }

  @Test
  void containersCascadeUpwardsUntilANonEmptyOrNonContainerNode() {
    h.create("/top");
    h.create(createReq("/top/c1").setKind(NodeKind.CONTAINER));
    h.create(createReq("/top/c1/c2").setKind(NodeKind.CONTAINER));
    h.create(createReq("/top/c1/c2/c3").setKind(NodeKind.CONTAINER));
    h.create("/top/c1/c2/c3/leaf");
    h.create(createReq("/keep").setKind(NodeKind.CONTAINER));
    h.create(createReq("/keep/c").setKind(NodeKind.CONTAINER));
    h.create("/keep/c/leaf");
    h.create("/keep/sibling");

    assertOk(h.delete("/top/c1/c2/c3/leaf"));
    assertFalse(h.nodeExists("/top/c1"));
    assertTrue(h.nodeExists("/top"), "a persistent node stops the cascade");
    assertEquals(0, h.stat("/top").getNumChildren());

    assertOk(h.delete("/keep/c/leaf"));
    assertFalse(h.nodeExists("/keep/c"));
    assertTrue(h.nodeExists("/keep"), "a container with another child stays");
  }

  @Test
  void aFreshContainerWithoutChildrenStays() {
    h.create(createReq("/c").setKind(NodeKind.CONTAINER));
    h.create("/x");
    h.delete("/x");
    h.noop();
    assertTrue(h.nodeExists("/c"));
    assertEquals(NodeKind.CONTAINER, h.stat("/c").getKind());
  }

  @Test
  void aContainerEmptiedBySessionCloseGoesToo() {
    h.openSession(5);
    h.create(createReq("/election").setKind(NodeKind.CONTAINER));
    h.create(5, 0, createReq("/election/n-").setKind(NodeKind.EPHEMERAL).setSequential(true));
    h.closeSession(5, true);
    assertFalse(h.nodeExists("/election"));
  }

  // ------------------------------------------------------------------------------- TTL

  private long createTtl(String path, long ttlMs) {
    Response r = h.create(createReq(path).setKind(NodeKind.TTL).setTtlMs(ttlMs));
    assertOk(r);
    return r.getCreate().getStat().getMzxid();
  }

  @Test
  void ttlNodeExpiresOnceOldEnoughUnmodifiedAndChildless() {
    h.timeMs = 1_000;
    long mzxid = createTtl("/t", 500);
    h.addWatch(OBSERVER, "/t", WatchKind.WATCH_PERSISTENT);

    h.timeMs = 1_499;
    assertEquals(List.of(), h.sm.expiredTtlNodes(h.timeMs, 10));
    assertOk(h.expireTtl("/t", mzxid));
    assertTrue(h.nodeExists("/t"), "not old enough");

    h.timeMs = 1_500;
    assertEquals(List.of(new StateMachine.TtlCandidate("/t", mzxid)),
        h.sm.expiredTtlNodes(h.timeMs, 10));
    Response r = h.expireTtl("/t", mzxid);
    assertOk(r);
    assertFalse(r.hasCreate() || r.hasDelete(), "expire_ttl answers an empty response");
    assertFalse(h.nodeExists("/t"));
    assertEquals(List.of("NODE_DELETED /t"), eventsSeenByObserver());
  }

  @Test
  void ttlNodeModifiedSinceTheCandidateStays() {
    h.timeMs = 1_000;
    long mzxid = createTtl("/t", 500);
    h.timeMs = 1_200;
    h.setData("/t", "touched");
    h.timeMs = 2_000;
    assertOk(h.expireTtl("/t", mzxid));
    assertTrue(h.nodeExists("/t"), "mzxid moved on");
    h.timeMs = 1_600;
    assertEquals(List.of(), h.sm.expiredTtlNodes(1_600, 10), "mtime is now 1200");
  }

  @Test
  void ttlNodeWithChildrenStays() {
    h.timeMs = 1_000;
    long mzxid = createTtl("/t", 10);
    h.create("/t/child");
    h.timeMs = 5_000;
    assertEquals(List.of(), h.sm.expiredTtlNodes(h.timeMs, 10));
    assertOk(h.expireTtl("/t", mzxid));
    assertTrue(h.nodeExists("/t"));
    h.delete("/t/child");
    assertTrue(h.nodeExists("/t"), "a TTL node is no container");
  }

  @Test
  void expireTtlOfMissingOrNonTtlNodeIsANoop() {
    Response created = h.create("/p");
    long before = h.sm.snapshot().nodes().size();
    h.timeMs = Long.MAX_VALUE / 2;
    assertOk(h.expireTtl("/p", created.getZxid()));
    assertOk(h.expireTtl("/missing", 1));
    assertOk(h.expireTtl("not a path", 1));
    assertEquals(before, h.sm.snapshot().nodes().size());
  }

  @Test
  void expiredTtlNodesIsSortedAndBounded() {
    h.timeMs = 0;
    createTtl("/c", 1);
    createTtl("/a", 1);
    createTtl("/b", 1);
    createTtl("/late", 1_000);
    List<String> paths = h.sm.expiredTtlNodes(10, 2).stream()
        .map(StateMachine.TtlCandidate::path).toList();
    assertEquals(List.of("/a", "/b"), paths);
    assertEquals(3, h.sm.expiredTtlNodes(10, 100).size());
  }

  @Test
  void aTtlAboveTheMaximumIsRefusedNamingTheField() {
    // Long.MAX_VALUE used to wrap mtime + ttl to the past: the node was deleted within a second.
    Response r = h.create(createReq("/forever").setKind(NodeKind.TTL).setTtlMs(Long.MAX_VALUE));
    assertError(ErrorReason.INVALID_TTL, "/forever", r);
    assertTrue(r.getError().getMessage().contains("ttl_ms"), r.getError().getMessage());
    assertFalse(h.nodeExists("/forever"));
    assertEquals(List.of(), h.sm.expiredTtlNodes(h.timeMs + 1_000, 10));

    long longest = (1L << 40) - 1; // ZooKeeper's maximum, the largest accepted
    assertOk(h.create(createReq("/longest").setKind(NodeKind.TTL).setTtlMs(longest)));
    assertError(ErrorReason.INVALID_TTL, "/over",
        h.create(createReq("/over").setKind(NodeKind.TTL).setTtlMs(longest + 1)));
  }

  @Test
  void ttlExpiryArithmeticSaturatesInsteadOfWrapping() {
    h.timeMs = Long.MAX_VALUE - 10;
    long mzxid = createTtl("/t", 1_000);
    assertEquals(List.of(), h.sm.expiredTtlNodes(Long.MAX_VALUE - 1, 10));
    assertOk(h.expireTtl("/t", mzxid));
    assertTrue(h.nodeExists("/t"), "mtime + ttl past Long.MAX_VALUE means not yet, not long ago");
  }

  @Test
  void ttlExpiryEmptiesAContainerParent() {
    h.timeMs = 0;
    h.create(createReq("/c").setKind(NodeKind.CONTAINER));
    long mzxid = createTtl("/c/t", 5);
    h.timeMs = 5;
    h.expireTtl("/c/t", mzxid);
    assertFalse(h.nodeExists("/c"));
  }
}
