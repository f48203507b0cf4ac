package dev.synod.client;

import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.RemoveWatchRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The session's watches as the client holds them: one-shot watchers left by reads and persistent
 * watches, the delivery of the server's events to them (each watcher once per event, persistent
 * ones never twice for a zxid), and their registration again after a reconnect. Loop only.
 */
final class WatchRegistry {
  /** Sends an internal request (no caller waits for it) and hands its answer to the hook on the loop. */
  interface Sender {
    void send(Request.Builder request, Consumer<Response> onAnswer);
  }

  private final Callbacks callbacks;
  private final Sender sender;
  private final BooleanSupplier sessionLive;
  private final Map<WatchKey, List<OneShotWatch>> oneShots = new LinkedHashMap<>();
  private final Map<WatchKey, List<PersistentWatch>> persistents = new LinkedHashMap<>();

  /**
   * @param sessionLive whether the session can still take requests (not expired, not closed)
   */
  WatchRegistry(Callbacks callbacks, Sender sender, BooleanSupplier sessionLive) {
    this.callbacks = callbacks;
    this.sender = sender;
    this.sessionLive = sessionLive;
  }

  /** A read with a watcher was answered: the watcher waits for the next change. */
  void addOneShot(WatchKey key, OneShotWatch w) {
    oneShots.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
  }

  /** Holds {@code h} from now on (before its AddWatch is sent, so no event of it is missed). */
  void addPersistent(PersistentWatch h) {
    persistents.computeIfAbsent(h.key, k -> new ArrayList<>()).add(h);
  }

  /** The server's answer to a persistent watch's AddWatch. */
  void persistentAnswered(PersistentWatch h, Response r) {
    if (r.hasError()) {
      remove(h, false);
    } else {
      h.registered = true;
      h.lastZxid = Math.max(h.lastZxid, r.getAddWatch().getZxid());
    }
  }

  /** Forgets the watches on {@code path} of {@code kind} (every kind for WATCH_KIND_UNSPECIFIED). */
  void removeAll(String path, WatchKind kind) {
    boolean every = kind == WatchKind.WATCH_KIND_UNSPECIFIED;
    oneShots.keySet().removeIf(k -> k.path().equals(path) && (every || k.kind() == kind));
    persistents.keySet().removeIf(k -> k.path().equals(path) && (every || k.kind() == kind));
  }

  /** A handle closed: forgotten here, and on the server once no other handle shares its key. */
  void remove(PersistentWatch h, boolean tellServer) {
    List<PersistentWatch> list = persistents.get(h.key);
    if (list == null || !list.remove(h)) {
      return;
    }
    if (list.isEmpty()) {
      persistents.remove(h.key);
      if (tellServer && sessionLive.getAsBoolean()) {
        sender.send(Request.newBuilder().setRemoveWatch(RemoveWatchRequest.newBuilder()
            .setPath(h.key.path()).setKind(h.key.kind())), r -> { });
      }
    }
  }

  /** A new session: the server holds none of the old one's watches; one-shots are gone with it. */
  void sessionEnded() {
    oneShots.clear();
    for (List<PersistentWatch> list : persistents.values()) {
      list.forEach(h -> h.registered = false);
    }
  }

  /** A fresh session opened: the one-shot watchers of an earlier one will never fire. */
  void clearOneShots() {
    oneShots.clear();
  }

  /** The client closed. */
  void clear() {
    oneShots.clear();
    persistents.clear();
  }

  /** Delivers a server event to every watcher it fired, each watcher once. */
  void onEvent(WatchEvent e) {
    WatchedEvent event = new WatchedEvent(e.getType(), e.getPath(), e.getZxid(),
        e.getHasData() ? e.getData().toByteArray() : null, e.hasStat() ? e.getStat() : null);
    Set<Object> delivered = Collections.newSetFromMap(new IdentityHashMap<>());
    boolean resync = e.getType() == EventType.RESYNC_NEEDED;
    for (WatchTarget t : e.getFiredList()) {
      WatchKey key = new WatchKey(t.getPath(), t.getKind());
      if (t.getKind() == WatchKind.WATCH_PERSISTENT || t.getKind() == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
        for (PersistentWatch h : persistents.getOrDefault(key, List.of())) {
          boolean fresh = resync || e.getZxid() > h.lastZxid;
          if (fresh && !resync) {
            h.lastZxid = e.getZxid();
          }
          if (fresh && delivered.add(h.listener)) {
            callbacks.deliver(() -> h.listener.onEvent(event));
          }
        }
      } else {
        List<OneShotWatch> list = oneShots.remove(key);
        if (list != null) {
          for (OneShotWatch w : list) {
            if (delivered.add(w.watcher)) {
              callbacks.deliver(() -> w.watcher.process(event));
            }
          }
        }
      }
    }
  }

  /**
   * After a resume the server holds no watches of the session. One-shot watches are set again by
   * reading with watch=true; if the node changed meanwhile the event is delivered now. Persistent
   * ones are re-added from the last zxid they delivered, so the server replays what was missed.
   */
  void reRegister(boolean freshSession) {
    for (WatchKey key : new ArrayList<>(oneShots.keySet())) {
      Request.Builder read = Request.newBuilder();
      switch (key.kind()) {
        case WATCH_DATA -> read.setGetData(GetDataRequest.newBuilder().setPath(key.path()).setWatch(true));
        case WATCH_EXISTS -> read.setExists(ExistsRequest.newBuilder().setPath(key.path()).setWatch(true));
        default -> read.setGetChildren(GetChildrenRequest.newBuilder().setPath(key.path()).setWatch(true).setLimit(1));
      }
      sender.send(read, r -> checkOneShot(key, r));
    }
    for (Map.Entry<WatchKey, List<PersistentWatch>> entry : persistents.entrySet()) {
      List<PersistentWatch> handles = entry.getValue();
      if (handles.isEmpty() || handles.stream().noneMatch(h -> h.registered || freshSession)) {
        continue;
      }
      long from = handles.stream().mapToLong(h -> h.lastZxid).min().orElse(0);
      boolean data = handles.stream().anyMatch(h -> h.includeData);
      sender.send(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath(entry.getKey().path())
          .setKind(entry.getKey().kind()).setStartZxid(from).setIncludeData(data)), r -> {
            if (!r.hasError()) {
              handles.forEach(h -> h.registered = true);
            }
          });
    }
  }

  /** The re-registering read of {@code key} was answered: fire the one-shots whose node changed meanwhile. */
  void checkOneShot(WatchKey key, Response r) {
    List<OneShotWatch> list = oneShots.get(key);
    if (list == null || list.isEmpty()) {
      return;
    }
    boolean exists;
    Stat stat;
    if (r.hasError()) {
      if (r.getError().getReason() != ErrorReason.NO_NODE) {
        return; // keep them; a later reconnect tries again
      }
      exists = false;
      stat = null;
    } else if (r.hasExists()) {
      exists = r.getExists().getExists();
      stat = exists ? r.getExists().getStat() : null;
    } else if (r.hasGetData()) {
      exists = true;
      stat = r.getGetData().getStat();
    } else {
      exists = true;
      stat = r.getGetChildren().getStat();
    }
    Map<EventType, List<OneShotWatch>> fire = new LinkedHashMap<>();
    List<OneShotWatch> keep = new ArrayList<>();
    for (OneShotWatch w : list) {
      EventType type = w.changeTo(key.kind(), exists, stat);
      if (type == null) {
        keep.add(w);
      } else {
        fire.computeIfAbsent(type, k -> new ArrayList<>()).add(w);
      }
    }
    if (keep.isEmpty()) {
      oneShots.remove(key);
    } else {
      oneShots.put(key, keep);
    }
    fire.forEach((type, ws) -> {
      WatchedEvent event = new WatchedEvent(type, key.path(), r.getZxid(), null, stat);
      ws.forEach(w -> callbacks.deliver(() -> w.watcher.process(event)));
    });
  }
}
