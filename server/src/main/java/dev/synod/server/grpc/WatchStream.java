package dev.synod.server.grpc;

import dev.synod.api.v1.Request;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchRequest;
import dev.synod.server.pipeline.ServiceContext;
import dev.synod.server.pipeline.StreamRegistry;
import dev.synod.server.state.SynodException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * A sessionless persistent watch as a server stream (the unary-friendly Watch call). It gets its
 * own negative watcher id; its registration is dropped when the client cancels or stops reading.
 */
final class WatchStream implements StreamRegistry.Sink {
  private final ServiceContext ctx;
  private final Outbound<WatchEvent> out;
  private final long watcherId;

  WatchStream(ServiceContext ctx, ServerCallStreamObserver<WatchEvent> call) {
    this.ctx = ctx;
    // A Watch stream has no session to resume: the client watches again from the last zxid it saw.
    this.out = new Outbound<>(call, ctx.config().outboundMessagesMax(),
        "call Watch again with start_zxid set to the zxid of the last event received");
    this.watcherId = ctx.registry().newSessionlessId();
    call.setOnCancelHandler(this::stop);
    out.onOverflow(this::stop);
  }

  void start(WatchRequest request) {
    Request addWatch = Request.newBuilder()
        .setRequestNo(1)
        .setAddWatch(SynodService.addWatchOf(request))
        .build();
    try {
      ctx.validator().checkRead(addWatch);
    } catch (SynodException e) {
      out.fail(ErrorStatus.of(e.toError()));
      return;
    }
    // Attach first: events replayed from history during registration must find this stream.
    ctx.registry().attach(watcherId, this);
    ctx.state().read(watcherId, AuthInterceptor.current(), addWatch, response -> {
      if (response.hasError()) {
        ctx.registry().detach(watcherId, this);
        out.fail(ErrorStatus.of(response.getError()));
      }
    });
  }

  @Override
  public void deliver(WatchEvent event) {
    out.send(event);
  }

  @Override
  public void sessionEnded(boolean expired, long zxid) {
    // Sessionless: never called.
  }

  @Override
  public void disconnect(String why) {
    ctx.state().removeWatcher(watcherId);
    out.fail(io.grpc.Status.UNAVAILABLE.withDescription(why + "; watch again from the last zxid seen")
        .asRuntimeException());
  }

  private void stop() {
    if (ctx.registry().detach(watcherId, this)) {
      ctx.state().removeWatcher(watcherId);
    }
  }
}
