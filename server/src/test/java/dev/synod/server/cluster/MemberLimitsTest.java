package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.CreateResponse;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SessionRef;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.SyncRequest;
import dev.synod.server.grpc.ErrorStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members with different local limits still apply the same log to the same state: limits are
 * checked where a request enters (on whichever member that is), never during apply, and what apply
 * must know (a session's dedup window) travels in the log.
 */
class MemberLimitsTest {
  @TempDir Path dir;

  /** Member 1 allows more than members 2 and 3 (whoever of them leads). */
  private static TestCluster unevenCluster(Path dir) throws Exception {
    return new TestCluster(dir, 3, id -> id == 1
        ? List.of("data-bytes-max", "4096", "path-bytes-max", "256", "recent-results-per-session", "100")
        : List.of("data-bytes-max", "1024", "path-bytes-max", "64", "recent-results-per-session", "2"));
  }

  private static SynodGrpc.SynodBlockingStub synced(TestCluster cluster, int id) {
    SynodGrpc.SynodBlockingStub stub = cluster.servers[id].blocking();
    stub.sync(SyncRequest.getDefaultInstance());
    return stub;
  }

  private static void refused(ErrorReason reason, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertEquals(reason, ErrorStatus.reasonOf(e), e.toString());
  }

  @Test
  void whatOneMemberAcceptedEveryMemberApplies() throws Exception {
    try (TestCluster cluster = unevenCluster(dir)) {
      cluster.awaitLeader();
      ByteString value = ByteString.copyFrom(new byte[2_000]);
      String longPath = "/" + "p".repeat(100);
      SynodGrpc.SynodBlockingStub roomy = cluster.servers[1].blocking();
      roomy.create(CreateRequest.newBuilder().setPath("/big").setData(value).build());
      roomy.create(CreateRequest.newBuilder().setPath(longPath).build());
      for (int id = 1; id <= 3; id++) {
        SynodGrpc.SynodBlockingStub stub = synced(cluster, id);
        assertEquals(value, stub.getData(GetDataRequest.newBuilder().setPath("/big").build()).getData(),
            "server " + id);
        assertTrue(stub.exists(ExistsRequest.newBuilder().setPath(longPath).build()).getExists(),
            "server " + id);
      }
      // Entering a member with smaller limits, the same requests are refused there (a follower
      // checks before it forwards; a leader before it proposes).
      for (int id = 2; id <= 3; id++) {
        SynodGrpc.SynodBlockingStub strict = cluster.servers[id].blocking();
        refused(ErrorReason.VALUE_TOO_LARGE, () -> strict.create(
            CreateRequest.newBuilder().setPath("/big2").setData(value).build()));
        refused(ErrorReason.INVALID_PATH, () -> strict.create(
            CreateRequest.newBuilder().setPath("/" + "q".repeat(100)).build()));
      }
      // A node that exists is no less usable through a stricter member: the path limit is for
      // the paths creates make.
      cluster.servers[2].blocking().delete(DeleteRequest.newBuilder().setPath(longPath).build());
      for (int id = 1; id <= 3; id++) {
        assertFalse(synced(cluster, id).exists(ExistsRequest.newBuilder().setPath(longPath).build())
            .getExists(), "server " + id);
      }
    }
  }

  @Test
  void aSessionKeepsTheDedupWindowItWasOpenedWithOnEveryMember() throws Exception {
    try (TestCluster cluster = unevenCluster(dir)) {
      cluster.awaitLeader();
      // Opened on member 1: a window of 100 on every member, whatever their own setting.
      SessionOpened session = cluster.servers[1].blocking().openSession(OpenSessionRequest.getDefaultInstance());
      CreateRequest[] requests = new CreateRequest[5];
      CreateResponse[] answers = new CreateResponse[5];
      for (int no = 1; no <= 4; no++) {
        requests[no] = CreateRequest.newBuilder().setPath("/w" + no).setSession(SessionRef.newBuilder()
            .setSessionId(session.getSessionId()).setSecret(session.getSecret()).setRequestNo(no)).build();
        answers[no] = cluster.servers[1].blocking().create(requests[no]);
      }
      for (int id = 1; id <= 3; id++) {
        assertEquals(answers[1], synced(cluster, id).create(requests[1]), "retry through server " + id);
      }
    }
  }
}
