package dev.synod.client;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.ExistsResponse;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionEnded;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SynodGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process stand-in for a Synod server, for unit tests of the client's protocol logic: it
 * opens and resumes one session, answers heartbeats as confirmed, and answers requests (every
 * answer is an empty success, Exists says "no") unless the test tells it to hold them, to stay
 * silent, or to refuse streams. It records what the client sent.
 */
final class ScriptedServer implements AutoCloseable {
  static final long SESSION_ID = 42;
  static final long SECRET = 7;

  final String name;
  private final Server server;
  /** Every request received, in order (re-sent ones again). */
  final List<Request> requests = new CopyOnWriteArrayList<>();
  final AtomicInteger streamsStarted = new AtomicInteger();
  final AtomicInteger heartbeats = new AtomicInteger();
  private final List<StreamObserver<ServerMessage>> open = new CopyOnWriteArrayList<>();
  private final AtomicLong zxid = new AtomicLong(100);
  volatile long timeoutMs = 3000;
  volatile boolean answerRequests = true;
  volatile boolean answerHeartbeats = true;
  volatile boolean refuseStreams;
  /** Whether heartbeat replies vouch for the session (false: this server lost the leader). */
  volatile boolean confirm = true;
  final AtomicInteger resumes = new AtomicInteger();

  ScriptedServer(String name) throws IOException {
    this.name = name;
    this.server = InProcessServerBuilder.forName(name).directExecutor().addService(new SynodGrpc.SynodImplBase() {
      @Override
      public StreamObserver<ClientMessage> session(StreamObserver<ServerMessage> out) {
        return ScriptedServer.this.session(out);
      }
    }).build().start();
  }

  /** A channel factory for a client whose connect string names {@code name}:1 (one server). */
  static ChannelFactory channels() {
    return (InetSocketAddress address, java.util.concurrent.Executor executor) -> {
      ManagedChannel c = InProcessChannelBuilder.forName(address.getHostString()).executor(executor).build();
      return c;
    };
  }

  /** Fails every open stream, as a broken connection would. */
  void breakStreams() {
    for (StreamObserver<ServerMessage> o : open) {
      try {
        o.onError(Status.UNAVAILABLE.withDescription("scripted break").asRuntimeException());
      } catch (RuntimeException e) {
        // already closed
      }
    }
    open.clear();
  }

  /** How many times request {@code number} arrived. */
  long received(long number) {
    return requests.stream().filter(r -> r.getRequestNo() == number).count();
  }

  private StreamObserver<ClientMessage> session(StreamObserver<ServerMessage> out) {
    streamsStarted.incrementAndGet();
    if (refuseStreams) {
      out.onError(Status.UNAVAILABLE.withDescription("scripted refusal").asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(ClientMessage m) { }

        @Override
        public void onError(Throwable t) { }

        @Override
        public void onCompleted() { }
      };
    }
    open.add(out);
    return new StreamObserver<>() {
      @Override
      public void onNext(ClientMessage m) {
        synchronized (out) {
          answer(m, out);
        }
      }

      @Override
      public void onError(Throwable t) {
        open.remove(out);
      }

      @Override
      public void onCompleted() {
        open.remove(out);
        out.onCompleted();
      }
    };
  }

  private void answer(ClientMessage m, StreamObserver<ServerMessage> out) {
    switch (m.getKindCase()) {
      case OPEN -> out.onNext(ServerMessage.newBuilder().setOpened(SessionOpened.newBuilder()
          .setSessionId(SESSION_ID).setSecret(SECRET).setTimeoutMs(timeoutMs).setLastZxid(zxid.get())).build());
      case RESUME -> {
        resumes.incrementAndGet();
        out.onNext(ServerMessage.newBuilder().setOpened(SessionOpened.newBuilder()
          .setSessionId(SESSION_ID).setSecret(SECRET).setTimeoutMs(timeoutMs).setLastZxid(zxid.get())
          .setResumed(true)).build());
      }
      case HEARTBEAT -> {
        heartbeats.incrementAndGet();
        if (answerHeartbeats) {
          out.onNext(ServerMessage.newBuilder().setHeartbeat(HeartbeatReply.newBuilder()
              .setNonce(m.getHeartbeat().getNonce()).setConfirmed(confirm).setTimeLeftMs(confirm ? timeoutMs : 0)
              .setLastZxid(zxid.get())).build());
        }
      }
      case REQUEST -> {
        requests.add(m.getRequest());
        if (answerRequests) {
          Response.Builder r = Response.newBuilder().setRequestNo(m.getRequest().getRequestNo())
              .setZxid(zxid.incrementAndGet());
          if (m.getRequest().hasExists()) {
            r.setExists(ExistsResponse.newBuilder().setExists(false));
          }
          out.onNext(ServerMessage.newBuilder().setResponse(r).build());
        }
      }
      case CLOSE -> {
        out.onNext(ServerMessage.newBuilder().setEnded(SessionEnded.newBuilder()
            .setReason(SessionEnded.Reason.CLOSED)).build());
        out.onCompleted();
        open.remove(out);
      }
      case KIND_NOT_SET -> { }
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
