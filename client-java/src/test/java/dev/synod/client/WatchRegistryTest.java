package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsResponse;
import dev.synod.api.v1.GetDataResponse;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watch registry alone: event delivery (once per watcher, never an old zxid twice) and re-registration. */
class WatchRegistryTest {
  final Callbacks callbacks = new Callbacks();
  final List<Request.Builder> sent = new ArrayList<>();
  final List<Consumer<Response>> hooks = new ArrayList<>();
  final WatchRegistry registry = new WatchRegistry(callbacks, (r, hook) -> {
    sent.add(r);
    hooks.add(hook);
  }, () -> true);
  final BlockingQueue<WatchedEvent> seen = new LinkedBlockingQueue<>();

  @AfterEach
  void shutdown() {
    callbacks.shutdown();
  }

  static WatchEvent event(EventType type, String path, long zxid, WatchTarget... fired) {
    return WatchEvent.newBuilder().setType(type).setPath(path).setZxid(zxid).addAllFired(List.of(fired)).build();
  }

  static WatchTarget target(String path, WatchKind kind) {
    return WatchTarget.newBuilder().setPath(path).setKind(kind).build();
  }

  static Stat stat(long czxid, long mzxid) {
    return Stat.newBuilder().setCzxid(czxid).setMzxid(mzxid).build();
  }

  WatchedEvent next() throws InterruptedException {
    WatchedEvent e = seen.poll(5, TimeUnit.SECONDS);
    assertNotNull(e, "no event delivered");
    return e;
  }

  @Test
  void aListenerFiredTwiceByOneEventHearsItOnceAndNeverAnOlderZxidAgain() throws Exception {
    WatchListener listener = seen::add;
    PersistentWatch a = new PersistentWatch(new WatchKey("/app", WatchKind.WATCH_PERSISTENT_RECURSIVE), false,
        listener, h -> { });
    PersistentWatch b = new PersistentWatch(new WatchKey("/app/x", WatchKind.WATCH_PERSISTENT), false,
        listener, h -> { });
    registry.addPersistent(a);
    registry.addPersistent(b);
    WatchEvent e = event(EventType.NODE_DATA_CHANGED, "/app/x", 10,
        target("/app", WatchKind.WATCH_PERSISTENT_RECURSIVE), target("/app/x", WatchKind.WATCH_PERSISTENT));
    registry.onEvent(e);
    registry.onEvent(e); // replayed after a reconnect
    registry.onEvent(event(EventType.NODE_DELETED, "/app/x", 11, target("/app/x", WatchKind.WATCH_PERSISTENT)));
    assertEquals(10, next().zxid());
    assertEquals(11, next().zxid());
    assertNull(seen.poll(100, TimeUnit.MILLISECONDS), "the replayed event was delivered again");
    assertEquals(10, a.lastZxid());
    assertEquals(11, b.lastZxid());
  }

  @Test
  void oneShotFiresOnceAndIsThenGone() throws Exception {
    registry.addOneShot(new WatchKey("/n", WatchKind.WATCH_DATA), new OneShotWatch(seen::add, true, stat(5, 5)));
    registry.onEvent(event(EventType.NODE_DATA_CHANGED, "/n", 6, target("/n", WatchKind.WATCH_DATA)));
    registry.onEvent(event(EventType.NODE_DATA_CHANGED, "/n", 7, target("/n", WatchKind.WATCH_DATA)));
    assertEquals(6, next().zxid());
    assertNull(seen.poll(100, TimeUnit.MILLISECONDS));
  }

  @Test
  void afterAResumeOneShotsAreReadAgainAndFireForWhatChangedMeanwhile() throws Exception {
    registry.addOneShot(new WatchKey("/same", WatchKind.WATCH_DATA), new OneShotWatch(seen::add, true, stat(5, 5)));
    registry.addOneShot(new WatchKey("/changed", WatchKind.WATCH_DATA), new OneShotWatch(seen::add, true, stat(5, 5)));
    registry.addOneShot(new WatchKey("/gone", WatchKind.WATCH_EXISTS), new OneShotWatch(seen::add, true, stat(5, 5)));
    registry.reRegister(false);
    assertEquals(3, sent.size());
    assertTrue(sent.get(0).getGetData().getWatch() && sent.get(2).getExists().getWatch());
    hooks.get(0).accept(Response.newBuilder().setZxid(20).setGetData(GetDataResponse.newBuilder().setStat(stat(5, 5))).build());
    hooks.get(1).accept(Response.newBuilder().setZxid(20).setGetData(GetDataResponse.newBuilder().setStat(stat(5, 9))).build());
    hooks.get(2).accept(Response.newBuilder().setZxid(20).setExists(ExistsResponse.newBuilder().setExists(false)).build());
    List<String> fired = new ArrayList<>();
    WatchedEvent first = next();
    WatchedEvent second = next();
    fired.add(first.type() + " " + first.path());
    fired.add(second.type() + " " + second.path());
    assertEquals(List.of("NODE_DATA_CHANGED /changed", "NODE_DELETED /gone"), fired);
    assertNull(seen.poll(100, TimeUnit.MILLISECONDS), "/same did not change");
    // The unchanged one stays set: a later change fires it.
    registry.onEvent(event(EventType.NODE_DATA_CHANGED, "/same", 21, target("/same", WatchKind.WATCH_DATA)));
    assertEquals("/same", next().path());
    // An error other than NO_NODE keeps watches for the next attempt.
    registry.addOneShot(new WatchKey("/kept", WatchKind.WATCH_DATA), new OneShotWatch(seen::add, true, stat(5, 5)));
    registry.checkOneShot(new WatchKey("/kept", WatchKind.WATCH_DATA), Response.newBuilder()
        .setError(Error.newBuilder().setReason(ErrorReason.LEADER_UNAVAILABLE)).build());
    registry.onEvent(event(EventType.NODE_DELETED, "/kept", 30, target("/kept", WatchKind.WATCH_DATA)));
    assertEquals("/kept", next().path());
  }

  @Test
  void persistentWatchesResumeFromTheOldestZxidTheyDelivered() {
    PersistentWatch a = new PersistentWatch(new WatchKey("/p", WatchKind.WATCH_PERSISTENT), false, seen::add, h -> { });
    PersistentWatch b = new PersistentWatch(new WatchKey("/p", WatchKind.WATCH_PERSISTENT), true, seen::add, h -> { });
    registry.addPersistent(a);
    registry.addPersistent(b);
    registry.persistentAnswered(a, Response.newBuilder().setAddWatch(dev.synod.api.v1.AddWatchResponse.newBuilder().setZxid(12)).build());
    registry.persistentAnswered(b, Response.newBuilder().setAddWatch(dev.synod.api.v1.AddWatchResponse.newBuilder().setZxid(15)).build());
    registry.reRegister(false);
    assertEquals(1, sent.size(), "one AddWatch for the key both share");
    assertEquals(12, sent.get(0).getAddWatch().getStartZxid());
    assertTrue(sent.get(0).getAddWatch().getIncludeData(), "with data if any handle wants it");
  }
}
