package dev.synod.server.state;

import static dev.synod.api.v1.WatchKind.WATCH_PERSISTENT;
import static dev.synod.api.v1.WatchKind.WATCH_PERSISTENT_RECURSIVE;
import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchTarget;
import dev.synod.server.storage.Snapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Resuming persistent watches from a zxid out of the event history. */
class HistoryTest {

  /** An event without its fired list, to compare what two watchers saw of the same change. */
  private static WatchEvent change(WatchEvent e) {
    return e.toBuilder().clearFired().build();
  }

  private int writes;

  /** Creates under and beside {@code prefix}, and changes its data, in turn. */
  private void someWrites(Harness h, int n, String prefix) {
    for (int i = 0; i < n; i++) {
      int w = writes++;
      switch (w % 3) {
        case 0 -> assertOk(h.create(prefix + "/n" + w, "d" + w));
        case 1 -> assertOk(h.setData(prefix, "p" + w));
        default -> assertOk(h.create("/elsewhere" + w));
      }
    }
  }

  @Test
  void resumeReplaysExactlyTheMissedChangesThenGoesLive() {
    Harness h = new Harness();
    h.addWatch(-1, "/", WATCH_PERSISTENT_RECURSIVE, 0, true); // the reference: sees everything live
    h.create("/app");
    someWrites(h, 6, "/app");
    long start = h.sm.lastZxid();
    someWrites(h, 9, "/app"); // missed by the resuming watcher

    h.recorder.timeline.clear();
    Response added = h.addWatch(-2, "/app", WATCH_PERSISTENT_RECURSIVE, start, true);
    assertOk(added);
    assertEquals(h.sm.lastZxid(), added.getAddWatch().getZxid());
    someWrites(h, 6, "/app"); // live

    List<Harness.Dispatched> all = h.recorder.drain();
    List<WatchEvent> expected = all.stream().filter(d -> d.watcherId() == -1)
        .map(Harness.Dispatched::event)
        .filter(e -> e.getZxid() > start && e.getType() != EventType.NODE_CHILDREN_CHANGED
            && (e.getPath().equals("/app") || e.getPath().startsWith("/app/")))
        .map(HistoryTest::change).toList();
    List<WatchEvent> resumed = all.stream().filter(d -> d.watcherId() == -2)
        .map(Harness.Dispatched::event).toList();
    assertTrue(expected.size() >= 10, "the test needs enough changes: " + expected.size());
    assertEquals(expected, resumed.stream().map(HistoryTest::change).toList(),
        "no gap, no duplicate, in zxid order, with data");
    WatchTarget target = WatchTarget.newBuilder().setPath("/app")
        .setKind(WATCH_PERSISTENT_RECURSIVE).build();
    assertTrue(resumed.stream().allMatch(e -> e.getFiredList().equals(List.of(target))));
  }

  @Test
  void replayedEventsComeBeforeTheAddWatchResponse() {
    Harness h = new Harness();
    h.create("/a");
    long start = h.sm.lastZxid();
    h.setData("/a", "1");
    h.setData("/a", "2");
    h.recorder.drain();
    h.sm.read(-1, Request.newBuilder().setRequestNo(3)
        .setAddWatch(AddWatchRequest.newBuilder().setPath("/a")
            .setKind(WATCH_PERSISTENT).setStartZxid(start)).build(),
        r -> h.recorder.timeline.add("response " + r.getRequestNo()));
    assertEquals(List.of("event -1 NODE_DATA_CHANGED /a", "event -1 NODE_DATA_CHANGED /a",
        "response 3"), h.recorder.timeline);
  }

  @Test
  void replayOfAPersistentWatchIncludesChildrenChanged() {
    Harness h = new Harness();
    h.create("/a");
    long start = h.sm.lastZxid();
    h.create("/a/b");
    h.create("/b");
    h.delete("/a/b");
    h.addWatch(-1, "/a", WATCH_PERSISTENT, start, false);
    assertEquals(List.of("NODE_CHILDREN_CHANGED /a", "NODE_CHILDREN_CHANGED /a"),
        h.recorder.drainFor(-1).stream().map(e -> e.getType() + " " + e.getPath()).toList());
  }

  @Test
  void aStartZxidAheadOfTheServerIsRefused() {
    Harness h = new Harness();
    h.create("/a");
    Response r = h.addWatch(-1, "/a", WATCH_PERSISTENT, h.sm.lastZxid() + 1, false);
    assertError(ErrorReason.SESSION_ZXID_AHEAD, r);
    assertEquals(0, h.sm.stats().watchCount());
    assertError(ErrorReason.SESSION_ZXID_AHEAD, h.addWatch(-1, "/a", WATCH_PERSISTENT, -1L, false));
    assertOk(h.addWatch(-1, "/a", WATCH_PERSISTENT, h.sm.lastZxid(), false));
    assertEquals(List.of(), h.recorder.drain(), "nothing after the last zxid to replay");
  }

  @Test
  void resyncNeededWhenHistoryNoLongerReachesBack() {
    Harness h = new Harness(StateLimits.defaults().withHistory(5, 1 << 20));
    assertEquals(0, h.sm.stats().historyFloor());
    for (int i = 0; i < 10; i++) {
      h.create("/n" + i); // two events each
    }
    long floor = h.sm.stats().historyFloor();
    assertTrue(floor > 1 && floor < h.sm.lastZxid(), "floor " + floor);

    assertOk(h.addWatch(-1, "/", WATCH_PERSISTENT_RECURSIVE, floor - 1, false));
    List<WatchEvent> events = h.recorder.drainFor(-1);
    assertEquals(1, events.size());
    WatchEvent resync = events.get(0);
    assertEquals(EventType.RESYNC_NEEDED, resync.getType());
    assertEquals("/", resync.getPath());
    assertEquals(floor, resync.getZxid());
    assertEquals(List.of(WatchTarget.newBuilder().setPath("/")
        .setKind(WATCH_PERSISTENT_RECURSIVE).build()), resync.getFiredList());
    h.create("/later");
    assertEquals(List.of("NODE_CREATED /later"), h.recorder.drainFor(-1).stream()
        .map(e -> e.getType() + " " + e.getPath()).toList(), "registered all the same");

    // From the floor itself, everything after it is still there.
    floor = h.sm.stats().historyFloor();
    assertOk(h.addWatch(-2, "/", WATCH_PERSISTENT_RECURSIVE, floor, false));
    List<WatchEvent> replayed = h.recorder.drainFor(-2);
    assertTrue(replayed.stream().allMatch(e -> e.getType() == EventType.NODE_CREATED));
    assertEquals(h.sm.lastZxid() - floor, replayed.size());
    assertEquals(floor + 1, replayed.get(0).getZxid());
  }

  @Test
  void theByteLimitEvictsToo() {
    Harness h = new Harness(StateLimits.defaults().withHistory(1000, 3000));
    h.create("/a");
    String kilobyte = "x".repeat(1000);
    for (int i = 0; i < 5; i++) {
      h.setData("/a", kilobyte);
    }
    long floor = h.sm.stats().historyFloor();
    assertTrue(floor >= h.sm.lastZxid() - 3 && floor < h.sm.lastZxid(), "floor " + floor);
  }

  @Test
  void afterRestoreTheFloorIsTheSnapshotAndTheReplayedLogIsResumable() {
    Harness h = new Harness();
    h.create("/a");
    h.setData("/a", "1");
    Snapshot snapshot = h.sm.snapshot();
    Harness restarted = new Harness();
    restarted.sm.restore(snapshot);
    assertEquals(snapshot.zxid(), restarted.sm.stats().historyFloor());
    restarted.setData("/a", "2"); // as if replayed from the log after the snapshot
    restarted.setData("/a", "3");

    restarted.addWatch(-1, "/a", WATCH_PERSISTENT, snapshot.zxid() - 1, false);
    assertEquals(EventType.RESYNC_NEEDED, restarted.recorder.drainFor(-1).get(0).getType());
    restarted.addWatch(-2, "/a", WATCH_PERSISTENT, snapshot.zxid(), true);
    assertEquals(List.of("2", "3"), restarted.recorder.drainFor(-2).stream()
        .map(e -> e.getData().toStringUtf8()).toList());
  }
}
