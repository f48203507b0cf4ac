package dev.synod.server.state;

import static dev.synod.api.v1.WatchKind.WATCH_CHILDREN;
import static dev.synod.api.v1.WatchKind.WATCH_DATA;
import static dev.synod.api.v1.WatchKind.WATCH_EXISTS;
import static dev.synod.api.v1.WatchKind.WATCH_KIND_UNSPECIFIED;
import static dev.synod.api.v1.WatchKind.WATCH_PERSISTENT;
import static dev.synod.api.v1.WatchKind.WATCH_PERSISTENT_RECURSIVE;
import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.RemoveWatchRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WatchTest {
  private static final long S = 1; // a session watcher
  private final Harness h = new Harness(new StateLimits(3, 100, 1000, 1 << 20));

  @BeforeEach
  void openSession() {
    h.openSession(S);
  }

  private List<String> seen(long watcherId) {
    return h.recorder.drainFor(watcherId).stream().map(e -> e.getType() + " " + e.getPath())
        .toList();
  }

  private static WatchTarget target(String path, WatchKind kind) {
    return WatchTarget.newBuilder().setPath(path).setKind(kind).build();
  }

  private long watchCount() {
    return h.sm.stats().watchCount();
  }

  @Test
  void dataWatchFiresOnDataChangeOnceThenIsGone() {
    h.create("/a");
    h.create("/b");
    assertOk(h.getData(S, "/a", true));
    assertOk(h.getData(S, "/b", true));
    h.create("/a/child");
    assertEquals(List.of(), seen(S), "a data watch ignores the child list");
    Response set = h.setData("/a", "x");
    List<WatchEvent> events = h.recorder.drainFor(S);
    assertEquals(1, events.size());
    WatchEvent e = events.get(0);
    assertEquals(EventType.NODE_DATA_CHANGED, e.getType());
    assertEquals("/a", e.getPath());
    assertEquals(set.getZxid(), e.getZxid());
    assertEquals(set.getSetData().getStat(), e.getStat());
    assertFalse(e.getHasData());
    assertEquals(List.of(target("/a", WATCH_DATA)), e.getFiredList());
    h.setData("/a", "y");
    assertEquals(List.of(), seen(S), "one-shot");
    h.delete("/b");
    assertEquals(List.of("NODE_DELETED /b"), seen(S));
    assertEquals(0, watchCount());
  }

  @Test
  void existsWatchFiresOnCreateDataChangeAndDeleteNotOnChildren() {
    assertFalse(h.exists(S, "/a", true).getExists().getExists());
    h.create("/a");
    assertEquals(List.of("NODE_CREATED /a"), seen(S));
    h.exists(S, "/a", true);
    h.create("/a/c");
    assertEquals(List.of(), seen(S));
    h.setData("/a", "x");
    assertEquals(List.of("NODE_DATA_CHANGED /a"), seen(S));
    h.exists(S, "/a/c", true);
    h.delete("/a/c");
    assertEquals(List.of("NODE_DELETED /a/c"), seen(S));
  }

  @Test
  void childrenWatchFiresOnChildListChangeAndDeleteNotOnData() {
    h.create("/a");
    h.children(S, "/a", true);
    h.setData("/a", "x");
    assertEquals(List.of(), seen(S));
    Response created = h.create("/a/c");
    List<WatchEvent> events = h.recorder.drainFor(S);
    assertEquals(1, events.size());
    assertEquals(EventType.NODE_CHILDREN_CHANGED, events.get(0).getType());
    assertEquals("/a", events.get(0).getPath());
    assertEquals(1, events.get(0).getStat().getNumChildren());
    assertEquals(created.getZxid(), events.get(0).getStat().getPzxid());
    h.children(S, "/a", true);
    h.delete("/a/c");
    assertEquals(List.of("NODE_CHILDREN_CHANGED /a"), seen(S));
    h.children(S, "/a", true);
    h.delete("/a");
    assertEquals(List.of("NODE_DELETED /a"), seen(S));
  }

  @Test
  void oneEventPerWatcherListsEveryRegistrationItFired() {
    Harness big = new Harness();
    big.openSession(S);
    big.create("/a");
    big.getData(S, "/a", true);
    big.exists(S, "/a", true);
    big.children(S, "/a", true);
    big.addWatch(S, "/a", WATCH_PERSISTENT);
    big.addWatch(S, "/", WATCH_PERSISTENT_RECURSIVE);
    big.addWatch(S, "/a", WATCH_PERSISTENT_RECURSIVE);
    big.recorder.drain();
    big.delete("/a");
    List<WatchEvent> events = big.recorder.drainFor(S);
    assertEquals(1, events.size(), "the NODE_DELETED for /a, nothing for the root's children");
    assertEquals(List.of(target("/a", WATCH_DATA), target("/a", WATCH_EXISTS),
            target("/a", WATCH_CHILDREN), target("/a", WATCH_PERSISTENT),
            target("/a", WATCH_PERSISTENT_RECURSIVE), target("/", WATCH_PERSISTENT_RECURSIVE)),
        events.get(0).getFiredList());
    assertFalse(events.get(0).hasStat(), "no stat after a delete");
    assertEquals(3, big.sm.stats().watchCount(), "one-shots gone, persistent ones stay");
  }

  @Test
  void persistentWatchSeesEveryTypeOnExactlyItsPathAndStays() {
    h.addWatch(-1, "/a", WATCH_PERSISTENT);
    h.create("/a");
    h.setData("/a", "x");
    h.create("/a/b");
    h.setData("/a/b", "y");
    h.delete("/a/b");
    h.delete("/a");
    h.create("/a");
    assertEquals(List.of("NODE_CREATED /a", "NODE_DATA_CHANGED /a", "NODE_CHILDREN_CHANGED /a",
        "NODE_CHILDREN_CHANGED /a", "NODE_DELETED /a", "NODE_CREATED /a"), seen(-1));
    assertEquals(1, watchCount());
  }

  @Test
  void recursiveWatchSeesTheSubtreeButNeverChildrenChanged() {
    h.addWatch(-1, "/a", WATCH_PERSISTENT_RECURSIVE);
    h.create("/a");
    h.create("/a/b");
    h.create("/a/b/c");
    h.setData("/a/b/c", "x");
    h.create("/ab");
    h.delete("/a/b/c");
    assertEquals(List.of("NODE_CREATED /a", "NODE_CREATED /a/b", "NODE_CREATED /a/b/c",
        "NODE_DATA_CHANGED /a/b/c", "NODE_DELETED /a/b/c"), seen(-1));
  }

  @Test
  void dataIsIncludedOnlyWhenAskedAndTheNodeExists() {
    h.addWatch(-1, "/a", WATCH_PERSISTENT, 0, true);
    h.addWatch(-2, "/a", WATCH_PERSISTENT, 0, false);
    h.create("/a", "one");
    h.setData("/a", "two");
    h.delete("/a");
    List<WatchEvent> withData = h.recorder.events.stream().filter(d -> d.watcherId() == -1)
        .map(Harness.Dispatched::event).toList();
    List<WatchEvent> without = h.recorder.drainFor(-2);
    assertEquals("one", withData.get(0).getData().toStringUtf8());
    assertTrue(withData.get(0).getHasData());
    assertEquals("two", withData.get(1).getData().toStringUtf8());
    assertFalse(withData.get(2).getHasData(), "nothing to include after a delete");
    assertTrue(without.stream().noneMatch(WatchEvent::getHasData));
  }

  @Test
  void oneRegistrationAskingForDataIsEnough() {
    Harness big = new Harness();
    big.create("/a", "d");
    big.addWatch(-1, "/", WATCH_PERSISTENT_RECURSIVE, 0, false);
    big.addWatch(-1, "/a", WATCH_PERSISTENT, 0, true);
    big.setData("/a", "e");
    WatchEvent e = big.recorder.drainFor(-1).get(0);
    assertTrue(e.getHasData());
    assertEquals(2, e.getFiredCount());
  }

  @Test
  void watchersAreDispatchedInAscendingIdOrder() {
    Harness big = new Harness();
    for (long id : new long[] {5, 2}) {
      big.openSession(id);
    }
    for (long id : new long[] {5, -3, 2, -10}) {
      big.addWatch(id, "/x", WATCH_PERSISTENT);
    }
    big.create("/x");
    assertEquals(List.of(-10L, -3L, 2L, 5L),
        big.recorder.drain().stream().map(Harness.Dispatched::watcherId).toList());
  }

  @Test
  void watchesNeedAWatcher() {
    h.create("/a");
    for (Response r : List.of(h.getData(0, "/a", true), h.exists(0, "/a", true),
        h.children(0, "/a", true))) {
      assertError(ErrorReason.BAD_ARGUMENT, r);
      assertEquals("cannot watch /a: one-shot watches need a session stream", r.getError().getMessage());
    }
    assertError(ErrorReason.BAD_ARGUMENT, h.addWatch(0, "/a", WATCH_PERSISTENT));
    assertOk(h.getData(0, "/a", false));
    assertEquals(0, watchCount());
  }

  @Test
  void aClosedSessionCannotRegisterWatches() {
    h.create("/a");
    h.closeSession(S, false);
    assertError(ErrorReason.SESSION_EXPIRED, h.getData(S, "/a", true));
    assertError(ErrorReason.SESSION_EXPIRED, h.addWatch(S, "/a", WATCH_PERSISTENT));
    assertEquals(0, watchCount());
  }

  @Test
  void missingNodeMeansNoDataOrChildWatch() {
    assertError(ErrorReason.NO_NODE, "/a", h.getData(S, "/a", true));
    assertError(ErrorReason.NO_NODE, "/a", h.children(S, "/a", true));
    assertEquals(0, watchCount());
    h.create("/a");
    assertEquals(List.of(), seen(S));
  }

  @Test
  void theWatchLimitRefusesOneMoreAndKeepsTheRest() {
    h.create("/a");
    h.create("/b");
    assertOk(h.getData(S, "/a", true));
    assertOk(h.exists(S, "/a", true));
    assertOk(h.addWatch(S, "/b", WATCH_PERSISTENT));
    assertOk(h.getData(S, "/a", true)); // the same (path, kind) again does not count
    assertOk(h.addWatch(S, "/b", WATCH_PERSISTENT, 0, true));
    assertEquals(3, watchCount());

    Response refused = h.getData(S, "/b", true);
    assertError(ErrorReason.TOO_MANY_WATCHES, refused);
    assertFalse(refused.hasGetData(), "the read failed as a whole");
    assertError(ErrorReason.TOO_MANY_WATCHES, h.addWatch(S, "/", WATCH_PERSISTENT_RECURSIVE));
    assertError(ErrorReason.TOO_MANY_WATCHES, h.exists(S, "/c", true));
    assertEquals(3, watchCount());
    assertOk(h.addWatch(-7, "/c", WATCH_PERSISTENT)); // the limit is per watcher

    h.setData("/a", "x");
    h.setData("/b", "y");
    List<WatchEvent> events = h.recorder.drainFor(S);
    assertEquals(2, events.size());
    assertEquals(2, events.get(0).getFiredCount());
    assertTrue(events.get(1).getHasData(), "re-registering updated include_data");
    assertOk(h.getData(S, "/a", true)); // room again once the one-shots fired
  }

  @Test
  void addWatchArguments() {
    assertError(ErrorReason.BAD_ARGUMENT, h.addWatch(S, "/a", WATCH_DATA));
    assertError(ErrorReason.BAD_ARGUMENT, h.addWatch(S, "/a", WATCH_KIND_UNSPECIFIED));
    assertError(ErrorReason.INVALID_PATH, h.addWatch(S, "/a/", WATCH_PERSISTENT));
    Response r = h.addWatch(S, "/not/yet", WATCH_PERSISTENT);
    assertOk(r);
    assertEquals(h.sm.lastZxid(), r.getAddWatch().getZxid());
    assertEquals(7, r.getRequestNo());
  }

  @Test
  void removeWatchByKindOrAll() {
    h.create("/a");
    h.getData(S, "/a", true);
    h.exists(S, "/a", true);
    h.addWatch(S, "/a", WATCH_PERSISTENT);
    assertEquals(1, removeWatch(S, "/a", WATCH_EXISTS));
    assertEquals(0, removeWatch(S, "/a", WATCH_EXISTS));
    assertEquals(0, removeWatch(-5, "/a", WATCH_KIND_UNSPECIFIED));
    assertEquals(2, removeWatch(S, "/a", WATCH_KIND_UNSPECIFIED));
    assertEquals(0, watchCount());
    h.setData("/a", "x");
    assertEquals(List.of(), seen(S));
  }

  private int removeWatch(long watcherId, String path, WatchKind kind) {
    Response r = h.read(watcherId, Request.newBuilder().setRemoveWatch(
        RemoveWatchRequest.newBuilder().setPath(path).setKind(kind)));
    assertOk(r);
    return r.getRemoveWatch().getRemoved();
  }

  @Test
  void removeWatcherDropsEverything() {
    h.create("/a");
    h.addWatch(-4, "/a", WATCH_PERSISTENT);
    h.addWatch(-4, "/", WATCH_PERSISTENT_RECURSIVE);
    h.addWatch(-5, "/a", WATCH_PERSISTENT);
    h.sm.removeWatcher(-4);
    assertEquals(1, watchCount());
    h.setData("/a", "x");
    assertEquals(List.of(-5L),
        h.recorder.drain().stream().map(Harness.Dispatched::watcherId).toList());
  }

  @Test
  void theWritersOwnEventComesBeforeItsResponseAndOthersFollowTheFanOut() {
    h.create("/a");
    h.addWatch(-1, "/", WATCH_PERSISTENT_RECURSIVE);
    h.getData(S, "/a", true);
    h.recorder.drain();
    h.apply(t -> t.setSessionId(S).setRequestNo(99).setSetData(
        SetDataRequest.newBuilder().setPath("/a")));
    // The writer's event is handed out under the lock, before its response; the Watch stream's
    // comes from the fan-out, once the lock is released (ZooKeeper's guarantee is per client).
    assertEquals(List.of("event 1 NODE_DATA_CHANGED /a", "response 99",
        "event -1 NODE_DATA_CHANGED /a"), h.recorder.timeline);
  }

  @Test
  void aOneShotWatchCanBeSetAgainAfterFiring() {
    h.create("/a");
    for (int i = 0; i < 3; i++) {
      h.getData(S, "/a", true);
      h.setData("/a", "v" + i);
    }
    assertEquals(3, seen(S).size());
  }
}
