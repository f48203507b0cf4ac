package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.ErrorInfo;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CloseSessionRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.CreateResponse;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetChildrenResponse;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.KeepAliveRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SessionRef;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.SyncRequest;
import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every unary call and every error reason it can produce, over in-process gRPC. */
class UnaryApiTest {
  @TempDir Path dir;
  TestServer server;
  SynodGrpc.SynodBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    server = new TestServer(dir, "data-bytes-max", "1024", "request-bytes-max", "1m",
        "batch-bytes-max", "1m", "children-page-max", "50");
    stub = server.blocking();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  CreateResponse create(String path) {
    return stub.create(CreateRequest.newBuilder().setPath(path).setData(bytes("v")).build());
  }

  /** Asserts the call fails with the reason, its documented status code, and ErrorInfo details. */
  static StatusRuntimeException fails(ErrorReason reason, Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    assertEquals(reason, ErrorStatus.reasonOf(e), e.toString());
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertTrue(details != null && details.getDetailsCount() >= 1, "status has details");
    try {
      ErrorInfo info = details.getDetails(0).unpack(ErrorInfo.class);
      assertEquals(reason.name(), info.getReason());
      assertEquals("synod.dev", info.getDomain());
    } catch (Exception ex) {
      throw new AssertionError(ex);
    }
    return e;
  }

  @Test
  void createGetSetDeleteRoundTrip() {
    CreateResponse created = stub.create(CreateRequest.newBuilder()
        .setPath("/app").setData(bytes("hello")).build());
    assertEquals("/app", created.getPath());
    assertEquals(0, created.getStat().getVersion());
    assertTrue(created.getStat().getCzxid() > 0);

    var got = stub.getData(GetDataRequest.newBuilder().setPath("/app").build());
    assertEquals("hello", got.getData().toStringUtf8());
    assertEquals(5, got.getStat().getDataLength());

    var set = stub.setData(SetDataRequest.newBuilder().setPath("/app").setData(bytes("world")).setVersion(0).build());
    assertEquals(1, set.getStat().getVersion());
    assertTrue(set.getStat().getMzxid() > created.getStat().getMzxid());

    assertTrue(stub.exists(ExistsRequest.newBuilder().setPath("/app").build()).getExists());
    stub.delete(DeleteRequest.newBuilder().setPath("/app").setVersion(1).build());
    var exists = stub.exists(ExistsRequest.newBuilder().setPath("/app").build());
    assertFalse(exists.getExists());
    assertFalse(exists.hasStat());
  }

  @Test
  void errorReasonsMapToPreciseStatusCodes() {
    create("/a");
    fails(ErrorReason.NO_NODE, Status.Code.NOT_FOUND,
        () -> stub.getData(GetDataRequest.newBuilder().setPath("/missing").build()));
    fails(ErrorReason.NO_NODE, Status.Code.NOT_FOUND, () -> create("/missing/child"));
    fails(ErrorReason.NODE_EXISTS, Status.Code.ALREADY_EXISTS, () -> create("/a"));
    fails(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION,
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/a").setVersion(7).build()));
    fails(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION,
        () -> stub.delete(DeleteRequest.newBuilder().setPath("/a").setVersion(3).build()));
    create("/a/b");
    fails(ErrorReason.NOT_EMPTY, Status.Code.FAILED_PRECONDITION,
        () -> stub.delete(DeleteRequest.newBuilder().setPath("/a").build()));
    fails(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT, () -> create("relative"));
    fails(ErrorReason.VALUE_TOO_LARGE, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath("/big")
            .setData(ByteString.copyFrom(new byte[1025])).build()));
    fails(ErrorReason.EPHEMERAL_NEEDS_SESSION, Status.Code.FAILED_PRECONDITION,
        () -> stub.create(CreateRequest.newBuilder().setPath("/e").setKind(NodeKind.EPHEMERAL).build()));
    fails(ErrorReason.INVALID_TTL, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath("/t").setKind(NodeKind.TTL).build()));
    fails(ErrorReason.INVALID_ACL, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath("/acl")
            .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(99)).build()));
    fails(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.getData(GetDataRequest.newBuilder().setPath("/a").setWatch(true).build()));
    fails(ErrorReason.SESSION_EXPIRED, Status.Code.NOT_FOUND,
        () -> stub.keepAlive(KeepAliveRequest.newBuilder().setSessionId(424242).setSecret(1).build()));
    fails(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT,
        () -> stub.delete(DeleteRequest.newBuilder().setPath("/").build()));
  }

  @Test
  void ephemeralNodesWithAUnarySessionAndNoChildrenUnderThem() {
    SessionOpened s = stub.openSession(OpenSessionRequest.newBuilder().setTimeoutMs(5_000).build());
    assertEquals(5_000, s.getTimeoutMs());
    SessionRef ref = SessionRef.newBuilder().setSessionId(s.getSessionId()).setSecret(s.getSecret()).build();
    var e = stub.create(CreateRequest.newBuilder().setPath("/eph").setKind(NodeKind.EPHEMERAL).setSession(ref).build());
    assertEquals(s.getSessionId(), e.getStat().getEphemeralOwner());
    fails(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS, Status.Code.FAILED_PRECONDITION, () -> create("/eph/child"));
    fails(ErrorReason.SESSION_SECRET_MISMATCH, Status.Code.PERMISSION_DENIED,
        () -> stub.create(CreateRequest.newBuilder().setPath("/x").setSession(
            ref.toBuilder().setSecret(s.getSecret() + 1)).build()));
    var kept = stub.keepAlive(KeepAliveRequest.newBuilder().setSessionId(s.getSessionId())
        .setSecret(s.getSecret()).build());
    assertTrue(kept.getConfirmed());
    assertTrue(kept.getTimeLeftMs() > 4_000);
    stub.closeSession(CloseSessionRequest.newBuilder().setSessionId(s.getSessionId()).setSecret(s.getSecret()).build());
    assertFalse(stub.exists(ExistsRequest.newBuilder().setPath("/eph").build()).getExists());
    fails(ErrorReason.SESSION_EXPIRED, Status.Code.NOT_FOUND,
        () -> stub.create(CreateRequest.newBuilder().setPath("/x").setSession(ref).build()));
  }

  @Test
  void sessionTimeoutIsNegotiatedWithinServerBounds() {
    assertEquals(2_000, stub.openSession(OpenSessionRequest.newBuilder().setTimeoutMs(1).build()).getTimeoutMs());
    assertEquals(60_000, stub.openSession(OpenSessionRequest.newBuilder().setTimeoutMs(1_000_000).build()).getTimeoutMs());
    assertEquals(10_000, stub.openSession(OpenSessionRequest.getDefaultInstance()).getTimeoutMs());
  }

  @Test
  void retriedUnaryWriteWithTheSameRequestNumberAppliesOnce() {
    SessionOpened s = stub.openSession(OpenSessionRequest.getDefaultInstance());
    create("/q");
    SessionRef ref = SessionRef.newBuilder().setSessionId(s.getSessionId()).setSecret(s.getSecret())
        .setRequestNo(1).build();
    CreateRequest seq = CreateRequest.newBuilder().setPath("/q/item-").setSequential(true).setSession(ref).build();
    CreateResponse first = stub.create(seq);
    CreateResponse retry = stub.create(seq);
    assertEquals(first, retry);
    assertEquals("/q/item-0000000000", first.getPath());
    assertEquals(1, stub.getChildren(GetChildrenRequest.newBuilder().setPath("/q").build()).getChildrenCount());
    fails(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT, () -> stub.create(CreateRequest.newBuilder()
        .setPath("/r").setSession(SessionRef.newBuilder().setRequestNo(5)).build()));
  }

  @Test
  void aRequestNumberReusedForADifferentUnaryWriteIsRefusedNotAnsweredWithTheOldResult() {
    SessionOpened s = stub.openSession(OpenSessionRequest.getDefaultInstance());
    SessionRef ref = SessionRef.newBuilder().setSessionId(s.getSessionId()).setSecret(s.getSecret())
        .setRequestNo(1).build();
    CreateResponse first = stub.create(CreateRequest.newBuilder().setPath("/first").setSession(ref).build());
    StatusRuntimeException e = fails(ErrorReason.REQUEST_NO_REUSED, Status.Code.FAILED_PRECONDITION,
        () -> stub.create(CreateRequest.newBuilder().setPath("/second").setSession(ref).build()));
    assertTrue(e.getStatus().getDescription().contains("request_no 1"), e.toString());
    fails(ErrorReason.REQUEST_NO_REUSED, Status.Code.FAILED_PRECONDITION,
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/first").setData(bytes("x")).setSession(ref).build()));
    assertFalse(stub.exists(ExistsRequest.newBuilder().setPath("/second").build()).getExists());
    assertEquals(0, stub.exists(ExistsRequest.newBuilder().setPath("/first").build()).getStat().getVersion());
    assertEquals(first, stub.create(CreateRequest.newBuilder().setPath("/first").setSession(ref).build()));
  }

  @Test
  void nodeKindsSequentialContainerAndTtl() throws Exception {
    create("/seq");
    assertEquals("/seq/n0000000000", stub.create(CreateRequest.newBuilder().setPath("/seq/n").setSequential(true).build()).getPath());
    assertEquals("/seq/n0000000001", stub.create(CreateRequest.newBuilder().setPath("/seq/n").setSequential(true).build()).getPath());
    assertEquals("/seq/0000000002", stub.create(CreateRequest.newBuilder().setPath("/seq/").setSequential(true).build()).getPath());

    stub.create(CreateRequest.newBuilder().setPath("/box").setKind(NodeKind.CONTAINER).build());
    create("/box/only");
    stub.delete(DeleteRequest.newBuilder().setPath("/box/only").build());
    assertFalse(stub.exists(ExistsRequest.newBuilder().setPath("/box").build()).getExists(),
        "a container goes when its last child goes");

    var ttl = stub.create(CreateRequest.newBuilder().setPath("/ttl").setKind(NodeKind.TTL).setTtlMs(150).build());
    assertEquals(NodeKind.TTL, ttl.getStat().getKind());
    Eventually.eventually(Duration.ofSeconds(5), "the TTL node /ttl removed",
        () -> !stub.exists(ExistsRequest.newBuilder().setPath("/ttl").build()).getExists());
  }

  @Test
  void getChildrenPagesWithACursorAndCapsAtTheServerLimit() {
    create("/dir");
    for (int i = 0; i < 120; i++) {
      create(String.format("/dir/c%03d", i));
    }
    GetChildrenResponse page = stub.getChildren(GetChildrenRequest.newBuilder().setPath("/dir").setLimit(30).build());
    assertEquals(30, page.getChildrenCount());
    assertEquals("c000", page.getChildren(0));
    assertEquals("c029", page.getNextCursor());
    assertEquals(120, page.getStat().getNumChildren());
    int seen = page.getChildrenCount();
    String cursor = page.getNextCursor();
    while (!cursor.isEmpty()) {
      page = stub.getChildren(GetChildrenRequest.newBuilder().setPath("/dir").setCursor(cursor).build());
      assertTrue(page.getChildrenCount() <= 50, "capped at children-page-max");
      seen += page.getChildrenCount();
      cursor = page.getNextCursor();
    }
    assertEquals(120, seen);
  }

  @Test
  void multiIsAllOrNothingWithPerOpResults() throws Exception {
    create("/m");
    MultiResponse ok = stub.multi(MultiRequest.newBuilder()
        .addOps(Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath("/m").setVersion(0)))
        .addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/m/x")))
        .addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/m").setData(bytes("2"))))
        .build());
    assertEquals(3, ok.getResultsCount());
    assertEquals("/m/x", ok.getResults(1).getCreate().getPath());

    StatusRuntimeException e = fails(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION, () -> stub.multi(
        MultiRequest.newBuilder()
            .addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/m/y")))
            .addOps(Op.newBuilder().setDelete(DeleteRequest.newBuilder().setPath("/m/x")))
            .addOps(Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath("/m").setVersion(0)))
            .build()));
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    ErrorInfo info = details.getDetails(0).unpack(ErrorInfo.class);
    assertEquals("2", info.getMetadataOrThrow("op_index"));
    MultiResponse results = null;
    for (Any any : details.getDetailsList()) {
      if (any.is(MultiResponse.class)) {
        results = any.unpack(MultiResponse.class);
      }
    }
    assertTrue(results != null, "per-op results in the details");
    assertEquals(ErrorReason.RUNTIME_INCONSISTENCY, results.getResults(0).getError().getReason());
    assertEquals(ErrorReason.BAD_VERSION, results.getResults(2).getError().getReason());
    assertFalse(stub.exists(ExistsRequest.newBuilder().setPath("/m/y").build()).getExists(), "rolled back");
    assertTrue(stub.exists(ExistsRequest.newBuilder().setPath("/m/x").build()).getExists(), "rolled back");
  }

  @Test
  void aclsAreStoredAndVersioned() {
    Acl acl = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1 | 2 | 16).build();
    stub.create(CreateRequest.newBuilder().setPath("/secure").addAcl(acl).build());
    var got = stub.getAcl(GetAclRequest.newBuilder().setPath("/secure").build());
    assertEquals(acl, got.getAcl(0));
    var world = stub.getAcl(GetAclRequest.newBuilder().setPath("/").build());
    assertEquals("world", world.getAcl(0).getScheme());
    var set = stub.setAcl(SetAclRequest.newBuilder().setPath("/secure").setAversion(0)
        .addAcl(acl.toBuilder().setPerms(31)).build());
    // (enforcement: see AclTableTest)
    assertEquals(1, set.getStat().getAversion());
    fails(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION, () -> stub.setAcl(
        SetAclRequest.newBuilder().setPath("/secure").setAversion(0).addAcl(acl).build()));
  }

  @Test
  void syncAndStatusReportTheServerState() {
    create("/s1");
    create("/s2");
    long zxid = stub.sync(SyncRequest.newBuilder().setPath("/").build()).getZxid();
    StatusResponse status = stub.status(StatusRequest.getDefaultInstance());
    assertEquals("standalone", status.getRole(), "a single server is standalone, as synod.proto says");
    assertEquals(1, status.getLeaderId());
    assertTrue(status.getAppliedSlot() > 0);
    assertEquals(zxid, status.getLastZxid());
    assertEquals(3, status.getNodeCount(), "root and two nodes");
    assertFalse(status.getVersion().isEmpty());
  }

  @Test
  void dataSurvivesARestartOfTheNode() throws Exception {
    byte[] value = new byte[1000];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) i;
    }
    stub.create(CreateRequest.newBuilder().setPath("/durable").setData(ByteString.copyFrom(value)).build());
    server.close();
    server = new TestServer(dir, "data-bytes-max", "1024", "request-bytes-max", "1m", "batch-bytes-max", "1m");
    stub = server.blocking();
    assertArrayEquals(value, stub.getData(GetDataRequest.newBuilder().setPath("/durable").build()).getData().toByteArray());
  }

}
