package dev.synod.server.grpc;

import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CloseSessionRequest;
import dev.synod.api.v1.CloseSessionResponse;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.CreateResponse;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.DeleteResponse;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.ExistsResponse;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetAclResponse;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetChildrenResponse;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.GetDataResponse;
import dev.synod.api.v1.GetQuotaRequest;
import dev.synod.api.v1.GetQuotaResponse;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.api.v1.SetQuotaResponse;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.KeepAliveRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SessionRef;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetAclResponse;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SetDataResponse;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.SyncResponse;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchRequest;
import dev.synod.server.auth.Identities;
import dev.synod.server.pipeline.AnswerSize;
import dev.synod.server.pipeline.ReadConsistency;
import dev.synod.server.pipeline.ServiceContext;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.Txn;
import com.google.protobuf.MessageLite;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Function;

/**
 * The client API. A thin adapter: it validates shape, resolves sessions, and delegates writes to
 * the pipeline and reads to the state machine; results and errors are translated here and only
 * here (see {@link ErrorStatus}).
 */
public final class SynodService extends SynodGrpc.SynodImplBase {
  private final ServiceContext ctx;

  public SynodService(ServiceContext ctx) {
    this.ctx = ctx;
  }

  // ---------------------------------------------------------------------------------------------
  // Streams

  @Override
  public StreamObserver<ClientMessage> session(StreamObserver<ServerMessage> responses) {
    return new SessionStream(ctx, (ServerCallStreamObserver<ServerMessage>) responses);
  }

  @Override
  public void watch(WatchRequest request, StreamObserver<WatchEvent> responses) {
    new WatchStream(ctx, (ServerCallStreamObserver<WatchEvent>) responses).start(request);
  }

  // ---------------------------------------------------------------------------------------------
  // Unary sessions

  @Override
  public void openSession(OpenSessionRequest request, StreamObserver<SessionOpened> responses) {
    try {
      // A unary session holds no identities (each call proves its own in metadata); credentials
      // given here are still checked, so wrong ones do not open a session.
      ctx.authenticator().proveAll(request.getCredentialsList());
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
      return;
    }
    long timeoutMs = ctx.config().negotiateTimeoutMs(request.getTimeoutMs());
    Txn.Builder txn = Txn.newBuilder().setCreateSession(ctx.validator().newSession(timeoutMs));
    // The replica loop starts tracking the session's liveness when it applies the creation.
    submit(txn, responses, (applied, response) -> {
      return SessionOpened.newBuilder()
          .setSessionId(applied.getSessionId())
          .setSecret(applied.getCreateSession().getSecret())
          .setTimeoutMs(timeoutMs)
          .setLastZxid(applied.getZxid())
          .build();
    });
  }

  @Override
  public void keepAlive(KeepAliveRequest request, StreamObserver<HeartbeatReply> responses) {
    try {
      long id = ctx.authenticate(request.getSessionId(), request.getSecret()).id();
      if (!ctx.tracker().touch(id)) {
        throw new SynodException(ErrorReason.SESSION_EXPIRED, "session " + id + " is expiring");
      }
      responses.onNext(ctx.heartbeatReply(id).build());
      responses.onCompleted();
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
    }
  }

  @Override
  public void closeSession(CloseSessionRequest request, StreamObserver<CloseSessionResponse> responses) {
    try {
      long id = ctx.authenticate(request.getSessionId(), request.getSecret()).id();
      Txn.Builder txn = Txn.newBuilder()
          .setSessionId(id)
          .setCloseSession(CloseSessionTxn.newBuilder().setExpired(false));
      submit(txn, responses, (applied, response) ->
          CloseSessionResponse.newBuilder().setZxid(applied.getZxid()).build());
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Unary writes

  @Override
  public void create(CreateRequest request, StreamObserver<CreateResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setCreate(request.toBuilder().clearSession()), session,
        responses, Response::getCreate);
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setDelete(request.toBuilder().clearSession()), session,
        responses, Response::getDelete);
  }

  @Override
  public void setData(SetDataRequest request, StreamObserver<SetDataResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setSetData(request.toBuilder().clearSession()), session,
        responses, Response::getSetData);
  }

  @Override
  public void setAcl(SetAclRequest request, StreamObserver<SetAclResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setSetAcl(request.toBuilder().clearSession()), session,
        responses, Response::getSetAcl);
  }

  @Override
  public void multi(MultiRequest request, StreamObserver<MultiResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setMulti(request.toBuilder().clearSession()), session,
        responses, Response::getMulti);
  }

  @Override
  public void setQuota(SetQuotaRequest request, StreamObserver<SetQuotaResponse> responses) {
    SessionRef session = request.getSession();
    write(Request.newBuilder().setSetQuota(request.toBuilder().clearSession()), session,
        responses, Response::getSetQuota);
  }

  @Override
  public void sync(SyncRequest request, StreamObserver<SyncResponse> responses) {
    try {
      ctx.pipeline().barrier((zxid, error) -> {
        if (error != null) {
          responses.onError(ErrorStatus.of(error));
          return;
        }
        responses.onNext(SyncResponse.newBuilder().setZxid(zxid).build());
        responses.onCompleted();
      });
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
    }
  }

  private <T> void write(Request.Builder request, SessionRef session, StreamObserver<T> responses,
      Function<Response, T> result) {
    try {
      Txn.Builder txn = ctx.validator().writeTxn(request.setRequestNo(session.getRequestNo())
          .setAfterRequestNo(session.getAfterRequestNo()).build())
          .addAllIdentities(AuthInterceptor.current().list());
      if (session.getSessionId() != 0) {
        long id = ctx.authenticate(session.getSessionId(), session.getSecret()).id();
        ctx.tracker().touch(id);
        txn.setSessionId(id).setRequestNo(session.getRequestNo());
      } else if (session.getRequestNo() != 0) {
        throw new SynodException(ErrorReason.BAD_ARGUMENT,
            "request_no needs a session: deduplication is per session");
      }
      submit(txn, responses, (applied, response) -> result.apply(response));
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
    }
  }

  /** Turns an applied Txn's result into the unary reply. */
  @FunctionalInterface
  private interface Reply<T> {
    T build(Txn applied, Response response);
  }

  private <T> void submit(Txn.Builder txn, StreamObserver<T> responses, Reply<T> reply) {
    try {
      ctx.pipeline().submit(txn, (applied, response) -> {
        if (response.hasError()) {
          responses.onError(ErrorStatus.of(response.getError(),
              response.hasMulti() ? response.getMulti() : null));
          return;
        }
        T answer = reply.build(applied, response);
        if (answer instanceof MessageLite m && !AnswerSize.fits(m)) {
          responses.onError(ErrorStatus.of(AnswerSize.tooLarge(
              "this write", m.getSerializedSize(), applied.getZxid())));
          return;
        }
        responses.onNext(answer);
        responses.onCompleted();
      });
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Unary reads

  @Override
  public void getData(GetDataRequest request, StreamObserver<GetDataResponse> responses) {
    read(Request.newBuilder().setGetData(request), responses, Response::getGetData);
  }

  @Override
  public void exists(ExistsRequest request, StreamObserver<ExistsResponse> responses) {
    read(Request.newBuilder().setExists(request), responses, Response::getExists);
  }

  @Override
  public void getChildren(GetChildrenRequest request, StreamObserver<GetChildrenResponse> responses) {
    read(Request.newBuilder().setGetChildren(request), responses, Response::getGetChildren);
  }

  @Override
  public void getAcl(GetAclRequest request, StreamObserver<GetAclResponse> responses) {
    read(Request.newBuilder().setGetAcl(request), responses, Response::getGetAcl);
  }

  @Override
  public void getQuota(GetQuotaRequest request, StreamObserver<GetQuotaResponse> responses) {
    read(Request.newBuilder().setGetQuota(request), responses, Response::getGetQuota);
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> responses) {
    responses.onNext(ctx.status().get());
    responses.onCompleted();
  }

  private <T> void read(Request.Builder request, StreamObserver<T> responses, Function<Response, T> result) {
    Request built = request.setRequestNo(1).build();
    try {
      ctx.validator().checkRead(built);
    } catch (SynodException e) {
      responses.onError(ErrorStatus.of(e.toError()));
      return;
    }
    Identities asker = AuthInterceptor.current();
    if (ReadConsistency.linearizable(built)) {
      try {
        ctx.pipeline().barrier((zxid, error) -> {
          if (error != null) {
            responses.onError(ErrorStatus.of(error));
          } else {
            answerRead(built, asker, responses, result);
          }
        });
      } catch (SynodException e) {
        responses.onError(ErrorStatus.of(e.toError()));
      }
      return;
    }
    answerRead(built, asker, responses, result);
  }

  private <T> void answerRead(Request built, Identities asker, StreamObserver<T> responses,
      Function<Response, T> result) {
    // Watcher 0: a unary call has no stream to deliver one-shot watch events to.
    ctx.state().read(0, asker, built, response -> {
      if (response.hasError()) {
        responses.onError(ErrorStatus.of(response.getError()));
      } else {
        T answer = result.apply(response);
        if (answer instanceof MessageLite m && !AnswerSize.fits(m)) {
          responses.onError(ErrorStatus.of(AnswerSize.tooLarge("this read", m.getSerializedSize(), 0)));
          return;
        }
        responses.onNext(answer);
        responses.onCompleted();
      }
    });
  }

  static AddWatchRequest addWatchOf(WatchRequest request) {
    WatchKind kind = request.getKind() == WatchKind.WATCH_KIND_UNSPECIFIED
        ? WatchKind.WATCH_PERSISTENT_RECURSIVE
        : request.getKind();
    return AddWatchRequest.newBuilder()
        .setPath(request.getPath())
        .setKind(kind)
        .setStartZxid(request.getStartZxid())
        .setIncludeData(request.getIncludeData())
        .build();
  }
}
