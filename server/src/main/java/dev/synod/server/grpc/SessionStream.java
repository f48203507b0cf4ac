package dev.synod.server.grpc;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ServerMessage;
import dev.synod.server.pipeline.ClientSession;
import dev.synod.server.pipeline.ServiceContext;
import dev.synod.server.pipeline.SessionOutput;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ForkJoinPool;

/**
 * The gRPC adapter of one session stream: client messages go to a {@link ClientSession}, which
 * keeps the session's ordering promises; what it sends goes out through a bounded
 * {@link Outbound}. Nothing here decides anything.
 */
final class SessionStream implements StreamObserver<ClientMessage>, SessionOutput {
  private final Outbound<ServerMessage> out;
  private final ClientSession session;

  SessionStream(ServiceContext ctx, ServerCallStreamObserver<ServerMessage> call) {
    this.out = new Outbound<>(call, ctx.config().outboundMessagesMax());
    // Constructed inside the call's context: what the connection and the call's headers proved.
    this.session = new ClientSession(ctx, this, AuthInterceptor.current(), ForkJoinPool.commonPool());
    this.out.onOverflow(session::detach);
    call.setOnCancelHandler(session::detach);
  }

  @Override
  public void onNext(ClientMessage message) {
    session.receive(message);
  }

  @Override
  public void onError(Throwable t) {
    session.detach();
  }

  @Override
  public void onCompleted() {
    session.inputEnded();
  }

  @Override
  public void send(ServerMessage message) {
    out.send(message);
  }

  @Override
  public void fail(Error error) {
    out.fail(ErrorStatus.of(error));
  }

  @Override
  public void disconnect(String why) {
    out.fail(Status.UNAVAILABLE.withDescription(why + "; resume the session").asRuntimeException());
  }

  @Override
  public void complete() {
    out.complete();
  }
}
