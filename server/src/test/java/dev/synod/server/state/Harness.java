package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.ExpireTtlTxn;
import dev.synod.txn.v1.NoopTxn;
import dev.synod.txn.v1.Txn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** A StateMachine with a recording dispatcher and short ways to write Txns and reads. */
final class Harness {
  record Dispatched(long watcherId, WatchEvent event) {}

  record Ended(long sessionId, boolean expired, long zxid) {}

  /** Records everything handed out, and the order of events versus responses. */
  static final class Recorder implements WatchDispatcher {
    final List<Dispatched> events = new ArrayList<>();
    final List<Ended> ended = new ArrayList<>();
    final List<String> timeline = new ArrayList<>();

    @Override
    public synchronized void dispatch(long watcherId, WatchEvent event) {
      events.add(new Dispatched(watcherId, event));
      timeline.add("event " + watcherId + " " + event.getType() + " " + event.getPath());
    }

    @Override
    public synchronized void sessionEnded(long sessionId, boolean expired, long zxid) {
      ended.add(new Ended(sessionId, expired, zxid));
      timeline.add("ended " + sessionId);
    }

    synchronized List<Dispatched> drain() {
      List<Dispatched> out = new ArrayList<>(events);
      events.clear();
      timeline.clear();
      return out;
    }

    synchronized List<WatchEvent> drainFor(long watcherId) {
      return drain().stream().filter(d -> d.watcherId() == watcherId).map(Dispatched::event)
          .toList();
    }
  }

  final Recorder recorder = new Recorder();
  final StateMachine sm;
  final StateLimits limits;
  long timeMs = 1_000_000;

  Harness() {
    this(StateLimits.defaults());
  }

  Harness(StateLimits limits) {
    this.limits = limits;
    this.sm = new StateMachine(limits, recorder);
  }

  /** A harness whose watch fan-out runs only when the test runs what {@code fanOut} was given. */
  Harness(StateLimits limits, java.util.concurrent.Executor fanOut) {
    this.limits = limits;
    this.sm = new StateMachine(limits, recorder, fanOut);
  }

  static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------------------- writes

  /** Applies a Txn stamped with the next zxid and the current time. */
  Response apply(UnaryOperator<Txn.Builder> op) {
    Txn txn = op.apply(Txn.newBuilder().setZxid(sm.lastZxid() + 1).setTimeMs(timeMs)).build();
    List<Response> out = new ArrayList<>();
    sm.apply(txn, r -> {
      out.add(r);
      synchronized (recorder) {
        recorder.timeline.add("response " + r.getRequestNo());
      }
    });
    assertEquals(1, out.size());
    assertEquals(txn.getZxid(), sm.lastZxid());
    return out.get(0);
  }

  Response openSession(long id) {
    return openSession(id, 0);
  }

  /** Opens a session with a dedup window of {@code recentResultsMax} (0: the default). */
  Response openSession(long id, int recentResultsMax) {
    return apply(t -> t.setSessionId(id).setCreateSession(CreateSessionTxn.newBuilder()
        .setSecret(id * 31).setTimeoutMs(10_000).setRecentResultsMax(recentResultsMax)));
  }

  Response closeSession(long id, boolean expired) {
    return apply(t -> t.setSessionId(id)
        .setCloseSession(CloseSessionTxn.newBuilder().setExpired(expired)));
  }

  Response noop() {
    return apply(t -> t.setNoop(NoopTxn.getDefaultInstance()));
  }

  Response expireTtl(String path, long mzxid) {
    return apply(t -> t.setExpireTtl(ExpireTtlTxn.newBuilder().setPath(path).setMzxid(mzxid)));
  }

  static CreateRequest.Builder createReq(String path) {
    return CreateRequest.newBuilder().setPath(path);
  }

  Response create(String path) {
    return create(createReq(path));
  }

  Response create(String path, String data) {
    return create(createReq(path).setData(bytes(data)));
  }

  Response create(CreateRequest.Builder request) {
    return create(0, 0, request);
  }

  Response create(long sessionId, long requestNo, CreateRequest.Builder request) {
    return apply(t -> t.setSessionId(sessionId).setRequestNo(requestNo).setCreate(request));
  }

  Response delete(String path) {
    return apply(t -> t.setDelete(DeleteRequest.newBuilder().setPath(path)));
  }

  Response delete(String path, int version) {
    return apply(t -> t.setDelete(DeleteRequest.newBuilder().setPath(path).setVersion(version)));
  }

  Response setData(String path, String data) {
    return apply(t -> t.setSetData(SetDataRequest.newBuilder().setPath(path).setData(bytes(data))));
  }

  Response setData(String path, String data, int version) {
    return apply(t -> t.setSetData(
        SetDataRequest.newBuilder().setPath(path).setData(bytes(data)).setVersion(version)));
  }

  Response multi(Op... ops) {
    return apply(t -> t.setMulti(MultiRequest.newBuilder().addAllOps(List.of(ops))));
  }

  static Op opCreate(String path) {
    return Op.newBuilder().setCreate(createReq(path)).build();
  }

  static Op opCreate(CreateRequest.Builder request) {
    return Op.newBuilder().setCreate(request).build();
  }

  static Op opDelete(String path) {
    return Op.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(path)).build();
  }

  static Op opSetData(String path, String data) {
    return Op.newBuilder()
        .setSetData(SetDataRequest.newBuilder().setPath(path).setData(bytes(data))).build();
  }

  static Op opCheck(String path) {
    return Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath(path)).build();
  }

  static Op opCheck(String path, int version) {
    return Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath(path).setVersion(version))
        .build();
  }

  // ------------------------------------------------------------------------------- reads

  Response read(long watcherId, Request.Builder request) {
    List<Response> out = new ArrayList<>();
    sm.read(watcherId, request.setRequestNo(7).build(), r -> {
      out.add(r);
      synchronized (recorder) {
        recorder.timeline.add("read response " + watcherId);
      }
    });
    assertEquals(1, out.size());
    return out.get(0);
  }

  Response getData(long watcherId, String path, boolean watch) {
    return read(watcherId, Request.newBuilder()
        .setGetData(GetDataRequest.newBuilder().setPath(path).setWatch(watch)));
  }

  Response exists(long watcherId, String path, boolean watch) {
    return read(watcherId, Request.newBuilder()
        .setExists(ExistsRequest.newBuilder().setPath(path).setWatch(watch)));
  }

  Response children(long watcherId, String path, boolean watch) {
    return read(watcherId, Request.newBuilder()
        .setGetChildren(GetChildrenRequest.newBuilder().setPath(path).setWatch(watch)));
  }

  Response children(String path, int limit, String cursor) {
    return read(0, Request.newBuilder().setGetChildren(
        GetChildrenRequest.newBuilder().setPath(path).setLimit(limit).setCursor(cursor)));
  }

  Response addWatch(long watcherId, String path, WatchKind kind, long startZxid,
      boolean includeData) {
    return read(watcherId, Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder()
        .setPath(path).setKind(kind).setStartZxid(startZxid).setIncludeData(includeData)));
  }

  Response addWatch(long watcherId, String path, WatchKind kind) {
    return addWatch(watcherId, path, kind, 0, false);
  }

  /** The node's stat, which must exist. */
  Stat stat(String path) {
    Response r = exists(0, path, false);
    assertTrue(r.getExists().getExists(), path + " should exist");
    return r.getExists().getStat();
  }

  boolean nodeExists(String path) {
    return exists(0, path, false).getExists().getExists();
  }

  String data(String path) {
    return getData(0, path, false).getGetData().getData().toStringUtf8();
  }

  List<String> childNames(String path) {
    return children(0, path, false).getGetChildren().getChildrenList();
  }

  // ------------------------------------------------------------------------------- asserts

  static void assertOk(Response r) {
    assertFalse(r.hasError(), () -> "unexpected error: " + r.getError());
  }

  static void assertError(ErrorReason reason, Response r) {
    assertTrue(r.hasError(), () -> "expected " + reason + " but got " + r);
    assertEquals(reason, r.getError().getReason(), () -> r.getError().toString());
    assertFalse(r.getError().getMessage().isEmpty(), "an error needs a message");
  }

  static void assertError(ErrorReason reason, String path, Response r) {
    assertError(reason, r);
    assertEquals(path, r.getError().getPath());
  }
}
