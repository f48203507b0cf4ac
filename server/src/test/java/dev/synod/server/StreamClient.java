package dev.synod.server;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.Heartbeat;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A raw session-stream client for tests: records every server message in arrival order so tests
 * can assert ordering (events before responses, FIFO), and offers blocking helpers.
 */
public final class StreamClient implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(10);

  public final List<ServerMessage> received = new CopyOnWriteArrayList<>();
  private final LinkedBlockingQueue<ServerMessage> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<ClientMessage> requests;
  private final AtomicLong nextRequestNo = new AtomicLong(1);
  private final AtomicReference<Throwable> error = new AtomicReference<>();
  private final CountDownLatch done = new CountDownLatch(1);
  public SessionOpened opened;

  public StreamClient(Channel channel) {
    requests = SynodGrpc.newStub(channel).session(new StreamObserver<>() {
      @Override
      public void onNext(ServerMessage m) {
        received.add(m);
        inbox.add(m);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
        done.countDown();
      }

      @Override
      public void onCompleted() {
        done.countDown();
      }
    });
  }

  public static StreamClient open(Channel channel, long timeoutMs) throws InterruptedException {
    StreamClient c = new StreamClient(channel);
    c.send(ClientMessage.newBuilder()
        .setOpen(OpenSessionRequest.newBuilder().setTimeoutMs(timeoutMs)).build());
    c.opened = c.next().getOpened();
    return c;
  }

  public static StreamClient resume(Channel channel, SessionOpened session, long lastZxidSeen)
      throws InterruptedException {
    StreamClient c = new StreamClient(channel);
    c.send(ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
        .setSessionId(session.getSessionId())
        .setSecret(session.getSecret())
        .setLastZxidSeen(lastZxidSeen)).build());
    c.opened = c.next().getOpened();
    return c;
  }

  public void send(ClientMessage message) {
    synchronized (requests) {
      requests.onNext(message);
    }
  }

  /** Sends a request with the next request number and returns that number. */
  public long sendRequest(Request.Builder request) {
    long no = request.getRequestNo() != 0 ? request.getRequestNo() : nextRequestNo.getAndIncrement();
    send(ClientMessage.newBuilder().setRequest(request.setRequestNo(no)).build());
    return no;
  }

  /** Sends a request and waits for its response (events arriving meanwhile stay recorded). */
  public Response call(Request.Builder request) throws InterruptedException {
    long no = sendRequest(request);
    return awaitResponse(no);
  }

  public Response awaitResponse(long requestNo) throws InterruptedException {
    return Eventually.eventually(WAIT, "a response to request " + requestNo, () -> {
      for (ServerMessage m : received) {
        if (m.hasResponse() && m.getResponse().getRequestNo() == requestNo) {
          return m.getResponse();
        }
      }
      if (done.getCount() == 0) {
        throw new AssertionError("stream ended while waiting for response " + requestNo, error.get());
      }
      return null;
    }, r -> r != null);
  }

  public HeartbeatReply heartbeat(long nonce) {
    send(ClientMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setNonce(nonce)).build());
    return Eventually.eventually(WAIT, "a heartbeat reply with nonce " + nonce, () -> {
      for (ServerMessage m : received) {
        if (m.hasHeartbeat() && m.getHeartbeat().getNonce() == nonce) {
          return m.getHeartbeat();
        }
      }
      return null;
    }, r -> r != null);
  }

  /** The next message of any kind, in arrival order. */
  public ServerMessage next() throws InterruptedException {
    ServerMessage m = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (m == null) {
      throw new AssertionError("no message within " + WAIT + (error.get() != null ? ": " + error.get() : ""));
    }
    return m;
  }

  /** Waits until {@code count} watch events have arrived and returns all events so far. */
  public List<WatchEvent> awaitEvents(int count) throws InterruptedException {
    return Eventually.eventually(WAIT, count + " watch events", this::events, events -> events.size() >= count);
  }

  public List<WatchEvent> events() {
    List<WatchEvent> events = new ArrayList<>();
    for (ServerMessage m : received) {
      if (m.hasEvent()) {
        events.add(m.getEvent());
      }
    }
    return events;
  }

  /** Waits for the stream to end; returns the error it ended with, or null when completed. */
  public Throwable awaitEnd() throws InterruptedException {
    if (!done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("stream did not end");
    }
    return error.get();
  }

  public boolean ended() {
    return done.getCount() == 0;
  }

  @Override
  public void close() {
    try {
      synchronized (requests) {
        requests.onCompleted();
      }
    } catch (RuntimeException ignored) {
      // already closed
    }
  }
}
