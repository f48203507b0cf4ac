package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.AddMemberRequest;
import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.ListMembersRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.consensus.Membership;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import dev.synod.server.replication.MemberAdmin;
import dev.synod.server.replication.MemberChanges;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the Admin service's membership calls map what replication answers onto gRPC statuses, and
 * who may make them (in-process gRPC, replication faked).
 */
class AdminMembersTest {
  /** Answers every change with {@code next}, and records what it was asked. */
  static final class FakeMembers implements MemberAdmin {
    final List<MemberChanges.Request> asked = new ArrayList<>();
    MemberChanges.Outcome next;
    long timeoutMs;

    @Override
    public ListMembersResponse listMembers() {
      return ListMembersResponse.newBuilder().setLeaderId(1).setMemberId(1).build();
    }

    @Override
    public CompletableFuture<MemberChanges.Outcome> changeMembers(MemberChanges.Request request, long timeoutMs) {
      asked.add(request);
      this.timeoutMs = timeoutMs;
      return CompletableFuture.completedFuture(next);
    }
  }

  private final FakeMembers members = new FakeMembers();
  private Server server;
  private ManagedChannel channel;

  /** A server whose callers prove {@code who}; only the superuser's calls when {@code superuserOnly}. */
  private AdminGrpc.AdminBlockingStub start(boolean superuserOnly, Identities who) throws Exception {
    String name = InProcessServerBuilder.generateName();
    AdminService admin = new AdminService(null, null, () -> 0, 1, null, Runnable::run, superuserOnly, members);
    ServerInterceptor identities = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(AuthInterceptor.IDENTITIES, who), call, headers, next);
      }
    };
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(admin, identities)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return AdminGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  private static MemberChanges.Outcome outcome(MemberChanges.Code code, String message, int leaderId) {
    return new MemberChanges.Outcome(code, message, Membership.ofVoters(List.of(1, 2, 3)), leaderId);
  }

  @Test
  void eachOutcomeHasItsStatus() throws Exception {
    AdminGrpc.AdminBlockingStub stub = start(false, Identities.ANONYMOUS);
    MemberRequest four = MemberRequest.newBuilder().setId(4).build();

    members.next = outcome(MemberChanges.Code.OK, "done", 1);
    assertEquals(1, stub.promoteMember(four).getLeaderId());

    members.next = outcome(MemberChanges.Code.REFUSED, "learner 4 is 500 slots behind", 1);
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> stub.promoteMember(four));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    assertEquals("learner 4 is 500 slots behind", refused.getStatus().getDescription());

    members.next = outcome(MemberChanges.Code.NOT_LEADER, "server 1 is not the leader; server 3 is", 3);
    StatusRuntimeException notLeader = assertThrows(StatusRuntimeException.class, () -> stub.removeMember(four));
    assertEquals(Status.Code.FAILED_PRECONDITION, notLeader.getStatus().getCode());
    assertEquals("3", notLeader.getTrailers().get(AdminService.LEADER_ID_KEY), "the leader's id, for a client to follow");

    members.next = outcome(MemberChanges.Code.BUSY, "a change is in progress", 1);
    assertEquals(Status.Code.ABORTED,
        assertThrows(StatusRuntimeException.class, () -> stub.transferLeader(four)).getStatus().getCode());

    members.next = outcome(MemberChanges.Code.TIMEOUT, "not decided in time", 1);
    assertEquals(Status.Code.DEADLINE_EXCEEDED,
        assertThrows(StatusRuntimeException.class, () -> stub.promoteMember(four)).getStatus().getCode());

    assertEquals(List.of(MemberChanges.Kind.PROMOTE, MemberChanges.Kind.PROMOTE, MemberChanges.Kind.REMOVE,
        MemberChanges.Kind.TRANSFER, MemberChanges.Kind.PROMOTE), members.asked.stream().map(MemberChanges.Request::kind).toList());
  }

  @Test
  void anAddNamesTheRoleAndAddressAndTheCallersDeadlineBoundsTheWait() throws Exception {
    AdminGrpc.AdminBlockingStub stub = start(false, Identities.ANONYMOUS);
    members.next = outcome(MemberChanges.Code.OK, "done", 1);
    stub.withDeadlineAfter(5, TimeUnit.SECONDS).addMember(AddMemberRequest.newBuilder().setId(4)
        .setAddress("h:4").setObserver(true).build());
    assertEquals(MemberChanges.Request.add(4, Membership.Role.OBSERVER, "h:4"), members.asked.get(0));
    assertTrue(members.timeoutMs <= 5_000 && members.timeoutMs > 0, "timeout " + members.timeoutMs);
    stub.addMember(AddMemberRequest.newBuilder().setId(5).setAddress("h:5").build());
    assertEquals(Membership.Role.LEARNER, members.asked.get(1).role());
    assertEquals(AdminService.MEMBER_CHANGE_TIMEOUT_MS, members.timeoutMs);
  }

  @Test
  void malformedRequestsAreInvalidArgumentsAndNeverReachReplication() throws Exception {
    AdminGrpc.AdminBlockingStub stub = start(false, Identities.ANONYMOUS);
    StatusRuntimeException noAddress = assertThrows(StatusRuntimeException.class,
        () -> stub.addMember(AddMemberRequest.newBuilder().setId(4).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, noAddress.getStatus().getCode());
    assertTrue(noAddress.getStatus().getDescription().startsWith("address"), noAddress.toString());
    StatusRuntimeException badId = assertThrows(StatusRuntimeException.class,
        () -> stub.removeMember(MemberRequest.newBuilder().setId(64).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, badId.getStatus().getCode());
    assertTrue(badId.getStatus().getDescription().startsWith("id"), badId.toString());
    assertThrows(StatusRuntimeException.class, () -> stub.promoteMember(MemberRequest.getDefaultInstance()));
    assertEquals(List.of(), members.asked);
  }

  @Test
  void withASuperuserConfiguredOnlyTheSuperuserMayListOrChangeMembers() throws Exception {
    AdminGrpc.AdminBlockingStub anonymous = start(true, Identities.ANONYMOUS);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> anonymous.listMembers(ListMembersRequest.getDefaultInstance()));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertThrows(StatusRuntimeException.class, () -> anonymous.removeMember(MemberRequest.newBuilder().setId(2).build()));
    assertEquals(List.of(), members.asked);
    stop();

    AdminGrpc.AdminBlockingStub superuser = start(true,
        Identities.of(List.of(Identities.identity(Acls.SUPER, "admin"))));
    members.next = outcome(MemberChanges.Code.OK, "done", 1);
    assertEquals(1, superuser.listMembers(ListMembersRequest.getDefaultInstance()).getLeaderId());
    superuser.removeMember(MemberRequest.newBuilder().setId(2).build());
    assertEquals(1, members.asked.size());
  }
}
