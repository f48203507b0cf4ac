package dev.synod.server.grpc;

import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.BackupRequest;
import dev.synod.api.v1.Error;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.BackupFormat;
import dev.synod.api.v1.AddMemberRequest;
import dev.synod.api.v1.ListMembersRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.consensus.Membership;
import dev.synod.server.replication.MemberAdmin;
import dev.synod.server.replication.MemberChanges;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.TimeUnit;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The operator's calls. Membership: list, add, promote, remove, transfer leadership (see
 * admin.proto), only the superuser's when one is configured. Backup: after a Sync (unless the request says local), a consistent copy of
 * this member's state, streamed in the {@link BackupFormat}; only the superuser's, when one is
 * configured. The copy and the streaming run on
 * {@code background}, never on the apply thread; the stream stops early if the client goes.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {
  /** How long a membership change may take when the caller sets no shorter deadline. */
  static final long MEMBER_CHANGE_TIMEOUT_MS = 30_000;
  /** On a change refused by a member that does not lead: the leader's id. */
  public static final Metadata.Key<String> LEADER_ID_KEY =
      Metadata.Key.of("synod-leader-id", Metadata.ASCII_STRING_MARSHALLER);

  private final StateMachine state;
  private final WritePipeline pipeline;
  private final LongSupplier clusterId;
  private final int memberId;
  private final Clock clock;
  private final Executor background;
  /** A superuser is configured: then only the superuser may take a backup. */
  private final boolean superuserOnly;
  private final MemberAdmin members;

  /**
   * {@code superuserOnly}: a backup holds every node whatever its ACL, so with a superuser
   * configured only the superuser may take one; without one, ACLs are not in use for such a
   * cluster's operators, and anyone who reaches the port may.
   */
  public AdminService(StateMachine state, WritePipeline pipeline, LongSupplier clusterId,
      int memberId, Clock clock, Executor background, boolean superuserOnly) {
    this(state, pipeline, clusterId, memberId, clock, background, superuserOnly, null);
  }

  /** {@code members}: membership calls (null: they answer UNIMPLEMENTED). */
  public AdminService(StateMachine state, WritePipeline pipeline, LongSupplier clusterId,
      int memberId, Clock clock, Executor background, boolean superuserOnly, MemberAdmin members) {
    this.members = members;
    this.state = state;
    this.pipeline = pipeline;
    this.clusterId = clusterId;
    this.memberId = memberId;
    this.clock = clock;
    this.background = background;
    this.superuserOnly = superuserOnly;
  }

  @Override
  public void backup(BackupRequest request, StreamObserver<BackupChunk> responses) {
    ServerCallStreamObserver<BackupChunk> call = (ServerCallStreamObserver<BackupChunk>) responses;
    if (superuserOnly && !AuthInterceptor.current().isSuper()) {
      call.onError(ErrorStatus.of(Error.newBuilder().setReason(dev.synod.api.v1.ErrorReason.NO_AUTH)
          .setMessage("a backup holds every node whatever its ACL: only the superuser may take one"
              + " (send its credentials in the synod-auth header, or synod --auth)").build()));
      return;
    }
    if (request.getLocal()) {
      background.execute(() -> stream(call));
      return;
    }
    try {
      pipeline.barrier((zxid, error) -> {
        if (error != null) {
          call.onError(ErrorStatus.of(Error.newBuilder().setReason(error.getReason())
              .setMessage("backup: " + error.getMessage() + " (a backup without the leader: set local)")
              .build()));
          return;
        }
        // The barrier is answered once this member applied through zxid: the copy holds it.
        background.execute(() -> stream(call));
      });
    } catch (dev.synod.server.state.SynodException e) {
      call.onError(ErrorStatus.of(e.toError()));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Membership

  @Override
  public void listMembers(ListMembersRequest request, StreamObserver<ListMembersResponse> out) {
    if (membersRefused(out)) {
      return;
    }
    out.onNext(members.listMembers());
    out.onCompleted();
  }

  @Override
  public void addMember(AddMemberRequest request, StreamObserver<ListMembersResponse> out) {
    if (membersRefused(out) || badId(request.getId(), out)) {
      return;
    }
    if (request.getAddress().isBlank()) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("address: the new member's peer address"
          + " (host:port) is required").asRuntimeException());
      return;
    }
    change(MemberChanges.Request.add(request.getId(),
        request.getObserver() ? Membership.Role.OBSERVER : Membership.Role.LEARNER, request.getAddress()), out);
  }

  @Override
  public void promoteMember(MemberRequest request, StreamObserver<ListMembersResponse> out) {
    if (!membersRefused(out) && !badId(request.getId(), out)) {
      change(MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, request.getId()), out);
    }
  }

  @Override
  public void removeMember(MemberRequest request, StreamObserver<ListMembersResponse> out) {
    if (!membersRefused(out) && !badId(request.getId(), out)) {
      change(MemberChanges.Request.of(MemberChanges.Kind.REMOVE, request.getId()), out);
    }
  }

  @Override
  public void transferLeader(MemberRequest request, StreamObserver<ListMembersResponse> out) {
    if (!membersRefused(out) && !badId(request.getId(), out)) {
      change(MemberChanges.Request.of(MemberChanges.Kind.TRANSFER, request.getId()), out);
    }
  }

  /** Answers the call and returns true when it may not go on: no membership here, or not allowed. */
  private boolean membersRefused(StreamObserver<ListMembersResponse> out) {
    if (members == null) {
      out.onError(Status.UNIMPLEMENTED.withDescription("membership calls are not served here").asRuntimeException());
      return true;
    }
    if (superuserOnly && !AuthInterceptor.current().isSuper()) {
      out.onError(ErrorStatus.of(Error.newBuilder().setReason(dev.synod.api.v1.ErrorReason.NO_AUTH)
          .setMessage("membership calls change the cluster itself: only the superuser may make them"
              + " (send its credentials in the synod-auth header, or synod --auth)").build()));
      return true;
    }
    return false;
  }

  private static boolean badId(int id, StreamObserver<ListMembersResponse> out) {
    if (id < 1 || id > Membership.ID_MAX) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("id: a member id is 1.." + Membership.ID_MAX
          + ", got " + Integer.toUnsignedString(id)).asRuntimeException());
      return true;
    }
    return false;
  }

  private void change(MemberChanges.Request request, StreamObserver<ListMembersResponse> out) {
    long timeoutMs = MEMBER_CHANGE_TIMEOUT_MS;
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      timeoutMs = Math.max(0, Math.min(timeoutMs, deadline.timeRemaining(TimeUnit.MILLISECONDS)));
    }
    members.changeMembers(request, timeoutMs).whenComplete((outcome, failure) -> {
      if (failure != null) {
        out.onError(Status.INTERNAL.withDescription("membership change failed: " + failure).asRuntimeException());
      } else if (outcome.code() == MemberChanges.Code.OK) {
        out.onNext(members.listMembers());
        out.onCompleted();
      } else {
        out.onError(statusOf(outcome));
      }
    });
  }

  /** How a change that did not take effect is told to the caller. */
  static io.grpc.StatusRuntimeException statusOf(MemberChanges.Outcome outcome) {
    Status status = switch (outcome.code()) {
      case OK -> Status.OK;
      case NOT_LEADER, REFUSED -> Status.FAILED_PRECONDITION;
      case BUSY -> Status.ABORTED;
      case TIMEOUT -> Status.DEADLINE_EXCEEDED;
    };
    Metadata trailers = new Metadata();
    if (outcome.code() == MemberChanges.Code.NOT_LEADER && outcome.leaderId() > 0) {
      trailers.put(LEADER_ID_KEY, Integer.toString(outcome.leaderId()));
    }
    return status.withDescription(outcome.message()).asRuntimeException(trailers);
  }

  private void stream(ServerCallStreamObserver<BackupChunk> call) {
    try {
      BackupFormat.write(state.snapshot(), clusterId.getAsLong(), memberId, clock.wallMs(), chunk -> {
        if (call.isCancelled()) {
          throw new Cancelled();
        }
        call.onNext(chunk);
      });
      call.onCompleted();
    } catch (Cancelled gone) {
      // The client went away: nothing to answer.
    } catch (RuntimeException e) {
      call.onError(Status.INTERNAL.withDescription("backup failed: " + e).asRuntimeException());
    }
  }

  /** The client cancelled the call: stop producing chunks. */
  private static final class Cancelled extends RuntimeException {
    Cancelled() {
      super(null, null, false, false);
    }
  }

  /** Runs each backup on a thread of its own (backups are rare and may take a while). */
  public static Executor threadPerBackup() {
    return action -> {
      Thread t = new Thread(action, "synod-backup");
      t.setDaemon(true);
      t.start();
    };
  }
}
