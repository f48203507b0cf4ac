package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Heartbeat;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SessionRef;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input of every kind gets a precise error; the server stays up and nothing already stored is
 * lost or changed.
 */
class BadInputTest {
  @TempDir Path dir;
  TestServer server;
  SynodGrpc.SynodBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    server = new TestServer(dir, "data-bytes-max", "4096", "request-bytes-max", "64k",
        "batch-bytes-max", "64k", "watches-per-session-max", "1000", "multi-ops-max", "10");
    stub = server.blocking();
    stub.create(CreateRequest.newBuilder().setPath("/keep").setData(ByteString.copyFromUtf8("safe")).build());
  }

  @AfterEach
  void stillServingAndNothingLost() throws Exception {
    try {
      var got = server.blocking().getData(GetDataRequest.newBuilder().setPath("/keep").build());
      assertEquals("safe", got.getData().toStringUtf8());
      assertEquals(0, got.getStat().getVersion());
      assertTrue(server.fatalErrors.isEmpty(), server.fatalErrors.toString());
    } finally {
      server.close();
    }
  }

  static void assertReason(ErrorReason reason, Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    assertEquals(reason, ErrorStatus.reasonOf(e), e.toString());
    assertFalse(e.getStatus().getDescription().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "relative", "/trailing/", "/a//b", "/a/./b", "/a/../b", "/.", "/..",
      "/ctl\u0001x", "/del\u007f", "/c1\u0085", "/surrogate\ud800", "/private\ue000", "/special\ufff0"})
  void invalidPathsAreRefusedEverywhere(String path) throws Exception {
    assertReason(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath(path).build()));
    assertReason(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT,
        () -> stub.getData(GetDataRequest.newBuilder().setPath(path).build()));
    assertReason(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT,
        () -> stub.multi(MultiRequest.newBuilder().addOps(Op.newBuilder().setSetData(
            SetDataRequest.newBuilder().setPath(path))).build()));
    StreamClient c = StreamClient.open(server.channel(), 5_000);
    Response r = c.call(Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path)));
    assertEquals(ErrorReason.INVALID_PATH, r.getError().getReason());
    assertFalse(c.ended(), "a bad request does not end the stream");
  }

  @Test
  void tooLongPathIsRefused() {
    String path = "/" + "p".repeat(5000);
    assertReason(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath(path).build()));
  }

  @Test
  void oversizedValuesAndMessages() {
    assertReason(ErrorReason.VALUE_TOO_LARGE, Status.Code.INVALID_ARGUMENT,
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/keep")
            .setData(ByteString.copyFrom(new byte[4097])).build()));
    assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT, () -> {
      MultiRequest.Builder m = MultiRequest.newBuilder();
      for (int i = 0; i < 11; i++) {
        m.addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/keep")));
      }
      stub.multi(m.build());
    });
    assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.multi(MultiRequest.newBuilder().addOps(Op.getDefaultInstance()).build()));
    assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.multi(MultiRequest.newBuilder().addOps(Op.newBuilder().setCreate(
            CreateRequest.newBuilder().setPath("/n").setSession(SessionRef.newBuilder().setSessionId(1)))).build()));
  }

  @Test
  void aMessageOverTheRequestLimitIsRefusedByTheTransport() throws Exception {
    try (TestServer real = TestServer.overLoopback(dir.resolve("loopback"), "request-bytes-max", "64k",
        "batch-bytes-max", "64k", "data-bytes-max", "4096")) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> real.blocking().setData(SetDataRequest.newBuilder().setPath("/keep")
              .setData(ByteString.copyFrom(new byte[70_000])).build()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
      assertTrue(real.blocking().exists(dev.synod.api.v1.ExistsRequest.newBuilder().setPath("/").build()).getExists(),
          "still serving on the same server");
    }
  }

  @Test
  void badTtlsAreRefusedWhereTheyEnterBeforeTheLog() throws Exception {
    long zxid = server.node.state().lastZxid();
    for (long ttl : new long[] {Long.MAX_VALUE, 1L << 40, 0, -1}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.create(
          CreateRequest.newBuilder().setPath("/ttl").setKind(NodeKind.TTL).setTtlMs(ttl).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
      assertEquals(ErrorReason.INVALID_TTL, ErrorStatus.reasonOf(e), e.toString());
      assertTrue(e.getStatus().getDescription().contains("ttl_ms"), e.toString());
    }
    assertReason(ErrorReason.INVALID_TTL, Status.Code.INVALID_ARGUMENT, () -> stub.create(
        CreateRequest.newBuilder().setPath("/p").setTtlMs(1_000).build()));
    assertReason(ErrorReason.INVALID_TTL, Status.Code.INVALID_ARGUMENT, () -> stub.multi(
        MultiRequest.newBuilder().addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder()
            .setPath("/m").setKind(NodeKind.TTL).setTtlMs(Long.MAX_VALUE))).build()));
    StreamClient c = StreamClient.open(server.channel(), 5_000);
    Response r = c.call(Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/s")
        .setKind(NodeKind.TTL).setTtlMs(Long.MAX_VALUE)));
    assertEquals(ErrorReason.INVALID_TTL, r.getError().getReason());
    assertEquals(zxid + 1, server.node.state().lastZxid(), "only the stream's session was written");
    assertFalse(stub.exists(dev.synod.api.v1.ExistsRequest.newBuilder().setPath("/ttl").build()).getExists());
  }

  @Test
  void badVersionsNeverChangeData() {
    for (int v : new int[] {1, 2, 99, Integer.MAX_VALUE}) {
      assertReason(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION,
          () -> stub.setData(SetDataRequest.newBuilder().setPath("/keep").setVersion(v)
              .setData(ByteString.copyFromUtf8("clobbered")).build()));
    }
    // No node has a version below -1: asking for one is a malformed request (ErrorWordsTest).
    assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/keep").setVersion(-2)
            .setData(ByteString.copyFromUtf8("clobbered")).build()));
  }

  @Test
  void unknownSessionsAreRefused() {
    assertReason(ErrorReason.SESSION_EXPIRED, Status.Code.NOT_FOUND,
        () -> stub.create(CreateRequest.newBuilder().setPath("/x").setSession(
            SessionRef.newBuilder().setSessionId(987654321L).setSecret(5)).build()));
    var s = stub.openSession(OpenSessionRequest.getDefaultInstance());
    assertReason(ErrorReason.SESSION_SECRET_MISMATCH, Status.Code.PERMISSION_DENIED,
        () -> stub.create(CreateRequest.newBuilder().setPath("/x").setSession(
            SessionRef.newBuilder().setSessionId(s.getSessionId()).setSecret(s.getSecret() + 1)).build()));
  }

  @Test
  void aWriteMustNameAnEarlierWriteAsItsPredecessor() throws Exception {
    StreamClient c = StreamClient.open(server.channel(), 5_000);
    for (long after : new long[] {5, 6}) {
      Response r = c.call(Request.newBuilder().setRequestNo(5).setAfterRequestNo(after)
          .setCreate(CreateRequest.newBuilder().setPath("/x")));
      assertEquals(ErrorReason.BAD_ARGUMENT, r.getError().getReason());
      assertTrue(r.getError().getMessage().contains("after_request_no"), r.getError().getMessage());
    }
    var s = stub.openSession(OpenSessionRequest.getDefaultInstance());
    assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath("/x").setSession(SessionRef.newBuilder()
            .setSessionId(s.getSessionId()).setSecret(s.getSecret()).setAfterRequestNo(1)).build()));
    assertFalse(server.blocking().exists(ExistsRequest.newBuilder().setPath("/x").build()).getExists());
    assertFalse(c.ended());
  }

  @Test
  void malformedStreamMessagesEndOnlyThatStreamWithAReason() throws Exception {
    for (ClientMessage bad : List.of(
        ClientMessage.getDefaultInstance(),
        ClientMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build(),
        ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestNo(1)
            .setGetData(GetDataRequest.newBuilder().setPath("/keep"))).build())) {
      StreamClient c = new StreamClient(server.channel());
      c.send(bad);
      StatusRuntimeException e = (StatusRuntimeException) c.awaitEnd();
      assertEquals(ErrorReason.PROTOCOL_VIOLATION, ErrorStatus.reasonOf(e), bad.toString());
      assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    }
    StreamClient twice = StreamClient.open(server.channel(), 5_000);
    twice.send(ClientMessage.newBuilder().setOpen(OpenSessionRequest.getDefaultInstance()).build());
    assertEquals(ErrorReason.PROTOCOL_VIOLATION, ErrorStatus.reasonOf((StatusRuntimeException) twice.awaitEnd()));

    StreamClient c = StreamClient.open(server.channel(), 5_000);
    c.send(ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestNo(0)
        .setGetData(GetDataRequest.newBuilder().setPath("/keep"))).build());
    assertEquals(ErrorReason.BAD_ARGUMENT, c.awaitResponse(0).getError().getReason());
    assertEquals(ErrorReason.BAD_ARGUMENT, c.call(Request.newBuilder()).getError().getReason());
    assertEquals(ErrorReason.BAD_ARGUMENT, c.call(Request.newBuilder().setAddWatch(
        AddWatchRequest.newBuilder().setPath("/keep").setKind(WatchKind.WATCH_DATA))).getError().getReason());
    assertFalse(c.ended());
  }

  @Test
  void thousandsOfWatchesHitALimitWithAClearErrorAndKeepTheOnesGranted() throws Exception {
    StreamClient c = StreamClient.open(server.channel(), 30_000);
    int granted = 0;
    int refused = 0;
    long last = 0;
    for (int i = 0; i < 1_500; i++) {
      last = c.sendRequest(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder()
          .setPath("/w" + i).setKind(WatchKind.WATCH_PERSISTENT)));
    }
    c.awaitResponse(last);
    for (var m : c.received) {
      if (m.hasResponse() && m.getResponse().hasAddWatch()) {
        granted++;
      } else if (m.hasResponse() && m.getResponse().hasError()) {
        assertEquals(ErrorReason.TOO_MANY_WATCHES, m.getResponse().getError().getReason());
        String message = m.getResponse().getError().getMessage();
        assertTrue(message.matches("cannot watch /w\\d+: this session already holds 1000 watches, which"
            + " is the limit \\(the server's watches-per-session-max\\); remove some first"), message);
        refused++;
      }
    }
    assertEquals(1_000, granted);
    assertEquals(500, refused);
    stub.create(CreateRequest.newBuilder().setPath("/w7").build());
    var events = c.awaitEvents(1);
    assertEquals("/w7", events.get(0).getPath());
  }
}
