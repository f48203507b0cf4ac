package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CloseSessionRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionEnded;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.Eventually;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The session stream: open, resume, heartbeat, expiry, watches, dedup and ordering. */
class SessionStreamTest {
  @TempDir Path dir;
  TestServer server;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server = new TestServer(dir, "session-timeout-min-ms", "300", "housekeeping-interval-ms", "20");
    channel = server.channel();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  static Request.Builder create(String path, NodeKind kind) {
    return Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path).setKind(kind));
  }

  static Request.Builder setData(String path, String value) {
    return Request.newBuilder().setSetData(SetDataRequest.newBuilder().setPath(path)
        .setData(ByteString.copyFromUtf8(value)));
  }

  static Request.Builder getData(String path, boolean watch) {
    return Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path).setWatch(watch));
  }

  @Test
  void openHeartbeatAndClose() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    assertTrue(c.opened.getSessionId() > 0);
    assertEquals(5_000, c.opened.getTimeoutMs());
    var reply = c.heartbeat(77);
    assertEquals(77, reply.getNonce());
    assertTrue(reply.getTimeLeftMs() > 4_000 && reply.getTimeLeftMs() <= 5_000, "time left " + reply.getTimeLeftMs());
    assertTrue(reply.getConfirmed(), "a cluster of one is always in touch with its leader");

    assertFalse(c.call(create("/eph", NodeKind.EPHEMERAL)).hasError());
    c.send(ClientMessage.newBuilder().setClose(CloseSessionRequest.getDefaultInstance()).build());
    ServerMessage last = null;
    while (last == null || !last.hasEnded()) {
      last = c.next();
    }
    assertEquals(SessionEnded.Reason.CLOSED, last.getEnded().getReason());
    assertEquals(null, c.awaitEnd());
    assertFalse(server.blocking().exists(ExistsRequest.newBuilder().setPath("/eph").build()).getExists());
  }

  @Test
  void halfCloseAnswersWhatWasSentThenEndsTheStreamButNotTheSession() throws Exception {
    // open, a write and a read pipelined behind it, then half-close at once (as grpcurl does
    // when its input runs out): every request is answered before the stream completes.
    StreamClient c = new StreamClient(channel);
    c.send(ClientMessage.newBuilder().setOpen(dev.synod.api.v1.OpenSessionRequest.newBuilder()
        .setTimeoutMs(5_000)).build());
    long write = c.sendRequest(create("/half", NodeKind.EPHEMERAL));
    long read = c.sendRequest(getData("/half", false));
    c.close();
    assertEquals(null, c.awaitEnd(), "the stream completes normally");
    List<Long> answered = new ArrayList<>();
    for (ServerMessage m : c.received) {
      if (m.hasResponse()) {
        assertFalse(m.getResponse().hasError(), m.getResponse().toString());
        answered.add(m.getResponse().getRequestNo());
      }
      assertFalse(m.hasEnded(), "the session is not ended by a half-close");
    }
    assertEquals(List.of(write, read), answered);
    // The session (and its ephemeral) lives on: it can be resumed on a new stream.
    StreamClient again = StreamClient.resume(channel, c.received.get(0).getOpened(), 0);
    assertTrue(again.opened.getResumed());
    assertTrue(again.call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath("/half")))
        .getExists().getExists());
    again.close();
  }

  @Test
  void closeThenHalfCloseDeliversTheEnding() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    long write = c.sendRequest(create("/bye", NodeKind.EPHEMERAL));
    c.send(ClientMessage.newBuilder().setClose(CloseSessionRequest.getDefaultInstance()).build());
    c.close();
    assertEquals(null, c.awaitEnd());
    ServerMessage last = c.received.get(c.received.size() - 1);
    assertTrue(last.hasEnded(), "last message: " + last);
    assertEquals(SessionEnded.Reason.CLOSED, last.getEnded().getReason());
    assertTrue(c.received.stream().anyMatch(m -> m.hasResponse() && m.getResponse().getRequestNo() == write));
  }

  @Test
  void expiryDeletesEphemeralsAndFiresOtherSessionsWatches() throws Exception {
    StreamClient owner = StreamClient.open(channel, 300);
    assertFalse(owner.call(create("/lock", NodeKind.EPHEMERAL)).hasError());
    StreamClient watcher = StreamClient.open(channel, 10_000);
    Response r = watcher.call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath("/lock").setWatch(true)));
    assertTrue(r.getExists().getExists());
    // The owner stops heartbeating; the watcher keeps its own session alive.
    Eventually.eventually(Duration.ofSeconds(5), "a delete event after expiry", () -> {
      watcher.heartbeat(System.nanoTime());
      return !watcher.events().isEmpty();
    });
    WatchEvent e = watcher.events().get(0);
    assertEquals(EventType.NODE_DELETED, e.getType());
    assertEquals("/lock", e.getPath());
    ServerMessage m;
    do {
      m = owner.next();
    } while (!m.hasEnded());
    assertEquals(SessionEnded.Reason.EXPIRED, m.getEnded().getReason());
    StreamClient late = new StreamClient(channel);
    late.send(ClientMessage.newBuilder().setResume(dev.synod.api.v1.ResumeSession.newBuilder()
        .setSessionId(owner.opened.getSessionId()).setSecret(owner.opened.getSecret())).build());
    Throwable t = late.awaitEnd();
    assertEquals(Status.Code.NOT_FOUND, Status.fromThrowable(t).getCode());
    assertEquals(ErrorReason.SESSION_EXPIRED, ErrorStatus.reasonOf((StatusRuntimeException) t));
  }

  @Test
  void resumeKeepsTheSessionAndItsEphemerals() throws Exception {
    StreamClient first = StreamClient.open(channel, 500);
    assertFalse(first.call(create("/mine", NodeKind.EPHEMERAL)).hasError());
    long seen = first.call(getData("/mine", false)).getZxid();
    first.close();
    StreamClient again = StreamClient.resume(server.channel(), first.opened, seen);
    assertTrue(again.opened.getResumed());
    assertEquals(first.opened.getSessionId(), again.opened.getSessionId());
    // Well past the timeout: heartbeats on the new stream keep the same session alive.
    long end = System.currentTimeMillis() + 1_500;
    while (System.currentTimeMillis() < end) {
      again.heartbeat(System.nanoTime());
      Thread.sleep(80); // the client's heartbeat interval for a fixed span, not a wait for a condition
    }
    var stat = server.blocking().exists(ExistsRequest.newBuilder().setPath("/mine").build());
    assertTrue(stat.getExists());
    assertEquals(first.opened.getSessionId(), stat.getStat().getEphemeralOwner());
  }

  @Test
  void heartbeatsKeepASessionAliveBeyondItsTimeout() throws Exception {
    StreamClient c = StreamClient.open(channel, 300);
    assertFalse(c.call(create("/alive", NodeKind.EPHEMERAL)).hasError());
    long end = System.currentTimeMillis() + 1_500;
    while (System.currentTimeMillis() < end) {
      c.heartbeat(System.nanoTime());
      Thread.sleep(60); // the client's heartbeat interval for a fixed span, not a wait for a condition
    }
    assertTrue(server.blocking().exists(ExistsRequest.newBuilder().setPath("/alive").build()).getExists());
    assertFalse(c.ended());
  }

  @Test
  void resumeWithWrongSecretOrFutureZxidIsRefused() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    StreamClient wrong = new StreamClient(server.channel());
    wrong.send(ClientMessage.newBuilder().setResume(dev.synod.api.v1.ResumeSession.newBuilder()
        .setSessionId(c.opened.getSessionId()).setSecret(c.opened.getSecret() ^ 1)).build());
    assertEquals(ErrorReason.SESSION_SECRET_MISMATCH, ErrorStatus.reasonOf((StatusRuntimeException) wrong.awaitEnd()));
    StreamClient ahead = new StreamClient(server.channel());
    ahead.send(ClientMessage.newBuilder().setResume(dev.synod.api.v1.ResumeSession.newBuilder()
        .setSessionId(c.opened.getSessionId()).setSecret(c.opened.getSecret()).setLastZxidSeen(1_000_000)).build());
    assertEquals(ErrorReason.SESSION_ZXID_AHEAD, ErrorStatus.reasonOf((StatusRuntimeException) ahead.awaitEnd()));
    assertFalse(c.ended(), "the real owner's stream is untouched");
  }

  @Test
  void resumeMovesTheSessionAndEndsTheOldStream() throws Exception {
    StreamClient first = StreamClient.open(channel, 5_000);
    StreamClient second = StreamClient.resume(server.channel(), first.opened, 0);
    Throwable t = first.awaitEnd();
    assertNotNull(t, "the superseded stream ends with an error");
    assertFalse(second.call(create("/via-second", NodeKind.EPHEMERAL)).hasError());
  }

  @Test
  void retriedRequestNumberReturnsTheOriginalResult() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    assertFalse(c.call(create("/jobs", NodeKind.PERSISTENT)).hasError());
    Request.Builder seq = Request.newBuilder().setRequestNo(100).setCreate(
        CreateRequest.newBuilder().setPath("/jobs/j-").setSequential(true));
    Response first = c.call(seq.clone());
    // The same request arrives again on a new stream after a reconnect.
    StreamClient again = StreamClient.resume(server.channel(), c.opened, first.getZxid());
    Response retried = again.call(seq.clone());
    assertEquals(first.getCreate(), retried.getCreate());
    assertEquals(first.getZxid(), retried.getZxid());
    Response children = again.call(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder().setPath("/jobs")));
    assertEquals(1, children.getGetChildren().getChildrenCount());
  }

  @Test
  void aRequestNumberReusedForADifferentWriteIsAnErrorNotTheOldResult() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    Response first = c.call(create("/s1", NodeKind.PERSISTENT).setRequestNo(100));
    assertFalse(first.hasError(), first.toString());
    StreamClient again = StreamClient.resume(server.channel(), c.opened, first.getZxid());
    Response reused = again.call(create("/s2", NodeKind.PERSISTENT).setRequestNo(100));
    assertEquals(ErrorReason.REQUEST_NO_REUSED, reused.getError().getReason(), reused.toString());
    assertFalse(reused.hasCreate());
    Response s2 = again.call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath("/s2")));
    assertFalse(s2.getExists().getExists(), "the new write was not applied");
    assertFalse(again.ended(), "a refused request does not end the stream");
  }

  @Test
  void requestsTakeEffectAndAnswerInTheOrderSent() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    c.call(create("/fifo", NodeKind.PERSISTENT));
    List<Long> sent = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      sent.add(c.sendRequest(setData("/fifo", "v" + i)));
      // A read right behind each write must see that write.
      sent.add(c.sendRequest(getData("/fifo", false)));
    }
    Response last = c.awaitResponse(sent.get(sent.size() - 1));
    assertEquals("v199", last.getGetData().getData().toStringUtf8());
    List<Long> answered = new ArrayList<>();
    for (ServerMessage m : c.received) {
      if (m.hasResponse() && m.getResponse().getRequestNo() > 1) {
        answered.add(m.getResponse().getRequestNo());
        if (m.getResponse().hasGetData()) {
          long no = m.getResponse().getRequestNo();
          int i = sent.indexOf(no) / 2;
          assertEquals("v" + i, m.getResponse().getGetData().getData().toStringUtf8(), "read after write " + i);
          assertEquals(i, m.getResponse().getGetData().getStat().getVersion() - 1);
        }
      }
    }
    assertEquals(sent, answered);
  }

  @Test
  void aWatchEventArrivesBeforeAnyResponseShowingTheChange() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    c.call(create("/cfg", NodeKind.PERSISTENT));
    for (int round = 0; round < 50; round++) {
      c.call(getData("/cfg", true));
      c.received.clear(); // nothing is in flight here
      long write = c.sendRequest(setData("/cfg", "r" + round));
      long read = c.sendRequest(getData("/cfg", false));
      c.awaitResponse(read);
      int eventAt = -1;
      int writeAt = -1;
      int readAt = -1;
      for (int i = 0; i < c.received.size(); i++) {
        ServerMessage m = c.received.get(i);
        if (m.hasEvent() && m.getEvent().getType() == EventType.NODE_DATA_CHANGED && eventAt < 0) {
          eventAt = i;
        }
        if (m.hasResponse() && m.getResponse().getRequestNo() == write) {
          writeAt = i;
        }
        if (m.hasResponse() && m.getResponse().getRequestNo() == read) {
          readAt = i;
        }
      }
      assertTrue(eventAt >= 0 && eventAt < writeAt && writeAt < readAt,
          "event " + eventAt + " before write response " + writeAt + " before read " + readAt);
    }
  }

  @Test
  void aWatcherSeesItsEventBeforeItsReadShowsTheChangeWhileTheFanOutIsStillBusy() throws Exception {
    // One multi changes 900 nodes under /busy, which 20 other sessions watch recursively, then
    // /cfg: the fan-out has 18,000 events to hand out before the watcher's. The watcher reads
    // /cfg as soon as the write is acknowledged, while the fan-out is still busy, so its event
    // must come from its own read (with the pull disabled, this fails in the first round).
    int busy = 900;
    StreamClient writer = StreamClient.open(channel, 5_000);
    StreamClient watcher = StreamClient.open(channel, 5_000);
    writer.call(create("/busy", NodeKind.PERSISTENT));
    MultiRequest.Builder creates = MultiRequest.newBuilder();
    for (int n = 0; n < busy; n++) {
      creates.addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/busy/" + n)));
    }
    assertFalse(writer.call(Request.newBuilder().setMulti(creates)).hasError());
    writer.call(create("/cfg", NodeKind.PERSISTENT));
    List<StreamClient> noise = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      StreamClient c = StreamClient.open(channel, 5_000);
      c.call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath("/busy")
          .setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE)));
      noise.add(c);
    }
    for (int round = 0; round < 5; round++) {
      watcher.call(getData("/cfg", true));
      watcher.received.clear(); // nothing is in flight here
      MultiRequest.Builder sets = MultiRequest.newBuilder();
      for (int n = 0; n < busy; n++) {
        sets.addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/busy/" + n)));
      }
      sets.addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/cfg")
          .setData(ByteString.copyFromUtf8("r" + round))));
      Response ack = writer.call(Request.newBuilder().setMulti(sets));
      assertFalse(ack.hasError(), ack.toString());
      long read = watcher.sendRequest(getData("/cfg", false));
      Response shown = watcher.awaitResponse(read);
      assertEquals("r" + round, shown.getGetData().getData().toStringUtf8());
      List<ServerMessage> got = List.copyOf(watcher.received);
      int eventAt = -1;
      int readAt = -1;
      for (int i = 0; i < got.size(); i++) {
        if (got.get(i).hasEvent() && got.get(i).getEvent().getZxid() == ack.getZxid()) {
          eventAt = i;
        }
        if (got.get(i).hasResponse() && got.get(i).getResponse().getRequestNo() == read) {
          readAt = i;
        }
      }
      assertTrue(eventAt >= 0 && eventAt < readAt,
          "round " + round + ": the event (at " + eventAt + ") must come before the read (at "
              + readAt + ") that shows the change: " + got);
      for (StreamClient c : noise) {
        c.awaitEvents(busy * (round + 1));
      }
    }
    for (StreamClient c : noise) {
      c.close();
    }
  }

  @Test
  void oneShotWatchesFireOnceAndPersistentOnesKeepFiring() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    StreamClient writer = StreamClient.open(server.channel(), 5_000);
    writer.call(create("/w", NodeKind.PERSISTENT));
    c.call(getData("/w", true));
    c.call(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder().setPath("/w").setWatch(true)));
    c.call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath("/w")
        .setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE).setIncludeData(true)));
    writer.call(setData("/w", "1"));
    writer.call(setData("/w", "2"));
    writer.call(create("/w/kid", NodeKind.PERSISTENT));
    c.awaitEvents(4);
    Eventually.holdsFor(Duration.ofMillis(100), "no event beyond the 4 expected", () -> c.events().size() <= 4);
    List<WatchEvent> events = c.events();
    // set 1: data watch + recursive in one event; set 2: recursive only; create: recursive on /w/kid
    // plus the one-shot children watch on /w.
    assertEquals(4, events.size(), events.toString());
    assertEquals(EventType.NODE_DATA_CHANGED, events.get(0).getType());
    assertEquals(2, events.get(0).getFiredCount());
    assertEquals("1", events.get(0).getData().toStringUtf8());
    assertEquals(1, events.get(1).getFiredCount());
    assertEquals(WatchKind.WATCH_PERSISTENT_RECURSIVE, events.get(1).getFired(0).getKind());
    assertEquals("2", events.get(1).getData().toStringUtf8());
    assertTrue(events.subList(2, 4).stream().anyMatch(e -> e.getType() == EventType.NODE_CREATED && e.getPath().equals("/w/kid")));
    assertTrue(events.subList(2, 4).stream().anyMatch(e -> e.getType() == EventType.NODE_CHILDREN_CHANGED && e.getPath().equals("/w")));
  }

  @Test
  void persistentWatchResumesFromAZxidWithNoGapAndNoDuplicate() throws Exception {
    StreamClient writer = StreamClient.open(channel, 5_000);
    writer.call(create("/feed", NodeKind.PERSISTENT));
    long from = writer.call(Request.newBuilder().setSync(SyncRequest.getDefaultInstance())).getSync().getZxid();
    for (int i = 0; i < 20; i++) {
      writer.call(setData("/feed", "m" + i));
    }
    StreamClient reader = StreamClient.open(server.channel(), 5_000);
    Response added = reader.call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder()
        .setPath("/feed").setKind(WatchKind.WATCH_PERSISTENT).setStartZxid(from).setIncludeData(true)));
    assertFalse(added.hasError(), added.toString());
    for (int i = 20; i < 30; i++) {
      writer.call(setData("/feed", "m" + i));
    }
    reader.awaitEvents(30);
    Eventually.holdsFor(Duration.ofMillis(100), "no event beyond the 30 expected", () -> reader.events().size() <= 30);
    List<WatchEvent> events = reader.events();
    assertEquals(30, events.size());
    for (int i = 0; i < 30; i++) {
      assertEquals("m" + i, events.get(i).getData().toStringUtf8());
      if (i > 0) {
        assertTrue(events.get(i).getZxid() > events.get(i - 1).getZxid());
      }
    }
  }

  @Test
  void deleteOfAWatchedNodeFiresDataExistsAndChildWatchesTogether() throws Exception {
    StreamClient c = StreamClient.open(channel, 5_000);
    c.call(create("/gone", NodeKind.PERSISTENT));
    c.call(getData("/gone", true));
    c.call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath("/gone").setWatch(true)));
    c.call(Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath("/gone")));
    WatchEvent e = c.awaitEvents(1).get(0);
    assertEquals(EventType.NODE_DELETED, e.getType());
    assertEquals(2, e.getFiredCount());
  }
}
