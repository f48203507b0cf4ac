package dev.synod.server.grpc;

import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.BackupRequest;
import dev.synod.api.v1.Error;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.BackupFormat;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The operator's calls. Backup: after a Sync (unless the request says local), a consistent copy of
 * this member's state, streamed in the {@link BackupFormat}; only the superuser's, when one is
 * configured. The copy and the streaming run on
 * {@code background}, never on the apply thread; the stream stops early if the client goes.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {
  private final StateMachine state;
  private final WritePipeline pipeline;
  private final LongSupplier clusterId;
  private final int memberId;
  private final Clock clock;
  private final Executor background;
  /** A superuser is configured: then only the superuser may take a backup. */
  private final boolean superuserOnly;

  /**
   * {@code superuserOnly}: a backup holds every node whatever its ACL, so with a superuser
   * configured only the superuser may take one; without one, ACLs are not in use for such a
   * cluster's operators, and anyone who reaches the port may.
   */
  public AdminService(StateMachine state, WritePipeline pipeline, LongSupplier clusterId,
      int memberId, Clock clock, Executor background, boolean superuserOnly) {
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
