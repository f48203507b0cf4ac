package dev.synod.server.pipeline;

import dev.synod.api.v1.AddAuthResponse;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionEnded;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SyncResponse;
import dev.synod.api.v1.WatchEvent;
import dev.synod.server.auth.Identities;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.Txn;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One client's session on one stream, with no transport in it: the gRPC session stream feeds it
 * {@link ClientMessage}s and sends what it emits through a {@link SessionOutput}; the whole-server
 * simulator drives the same class. It keeps the session's promises on this stream:
 *
 * <ul>
 *   <li>FIFO: writes enter the pipeline in arrival order; a read (or an immediate error) that
 *       arrives while earlier writes of this session are in flight waits until they are applied,
 *       and is then served right after them, before any later write of the session applies.
 *   <li>Events before data: the state machine hands this session its pending watch events
 *       before its write's response (under the write lock) and before its read's response (under
 *       the read lock), so a response never overtakes the event for the change it shows, even
 *       while the fan-out to other watchers is still running.
 *   <li>Messages sent before the session is open (pipelined behind `open`) wait and are handled in
 *       order once it is; a half-close is answered after everything sent before it.
 * </ul>
 *
 * <p>Threads: {@link #receive} and {@link #inputEnded} come from the transport, completions from
 * the apply thread. Lock order: the state lock may be held when taking {@link #order};
 * {@link #order} is never held while taking the state lock. The output's lock is a leaf.
 */
public final class ClientSession implements StreamRegistry.Sink {
  private enum Phase { NEW, OPENING, OPEN, ENDED }

  /** An action waiting until {@code afterWrites} of this stream's writes have been applied. */
  private record Deferred(long afterWrites, Runnable action) {}

  /**
   * Marks the client's half-close in the inbox, behind everything it sent before. A distinct
   * instance (compared by identity), never sent on the wire.
   */
  private static final ClientMessage END_OF_INPUT = ClientMessage.newBuilder().build();

  private final ServiceContext ctx;
  private final SessionOutput out;
  /** Where the inbox is drained once an open completes, off the apply thread. */
  private final Executor hop;
  private volatile Phase phase = Phase.NEW;
  private volatile long sessionId;
  /**
   * Who this stream's client is: what its connection proves, plus the credentials of its open or
   * resume and of every add_auth. Stamped on each write as it enters, and read with each read.
   */
  private volatile Identities who;

  private final ConcurrentLinkedQueue<ClientMessage> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inboxSize = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();

  private final Object order = new Object();
  private long writesSubmitted;
  private long writesCompleted;
  private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();

  /**
   * {@code connection}: what the transport proved of the client (its address, its certificate, the
   * credentials of the call's headers). {@code hop} runs the messages that arrived while the
   * session was opening, once it is open; it must not run them on the calling thread (the apply
   * thread holds the state lock then).
   */
  public ClientSession(ServiceContext ctx, SessionOutput out, Identities connection, Executor hop) {
    this.ctx = ctx;
    this.out = out;
    this.who = connection;
    this.hop = hop;
  }

  /** The session this stream serves, 0 before it is open. */
  public long sessionId() {
    return sessionId;
  }

  // ---------------------------------------------------------------------------------------------
  // Inbound

  /**
   * Handles one message from the client. Messages are handled one at a time in arrival order;
   * those that arrive while the session is still being opened wait and are handled once it is.
   */
  public void receive(ClientMessage message) {
    if (inboxSize.incrementAndGet() > ctx.config().pendingRequestsPerSessionMax()) {
      endWith(new SynodException(ErrorReason.OVERLOADED, "more than "
          + ctx.config().pendingRequestsPerSessionMax() + " messages sent before `opened`").toError());
      return;
    }
    inbox.add(message);
    drain();
  }

  /**
   * The client half-closed: what it sent is answered first (in order, after its in-flight
   * writes), then the stream ends. The session itself stays alive (a client may resume it on
   * another stream) until it is closed or expires.
   */
  public void inputEnded() {
    inboxSize.incrementAndGet();
    inbox.add(END_OF_INPUT);
    if (phase == Phase.ENDED) {
      return;
    }
    drain();
  }

  /** The transport is gone (cancelled, failed, or its client stopped reading): nothing is sent. */
  public void detach() {
    long id = sessionId;
    if (id != 0) {
      ctx.registry().detach(id, this);
    }
  }

  private void drain() {
    while (!inbox.isEmpty() && phase != Phase.OPENING && phase != Phase.ENDED) {
      if (!draining.compareAndSet(false, true)) {
        return; // another thread is draining and will see this message
      }
      try {
        ClientMessage next;
        while (phase != Phase.OPENING && phase != Phase.ENDED && (next = inbox.poll()) != null) {
          inboxSize.decrementAndGet();
          handle(next);
        }
      } finally {
        draining.set(false);
      }
    }
  }

  private void handle(ClientMessage message) {
    if (message == END_OF_INPUT) {
      ordered(this::finishAfterHalfClose);
      return;
    }
    try {
      Action action = switch (message.getKindCase()) {
        case OPEN -> () -> open(message.getOpen());
        case RESUME -> () -> resume(message.getResume());
        case HEARTBEAT -> () -> {
          requireOpen("heartbeat");
          ctx.tracker().touch(sessionId);
          send(ServerMessage.newBuilder().setHeartbeat(ctx.heartbeatReply(sessionId)
              .setNonce(message.getHeartbeat().getNonce())).build());
        };
        case REQUEST -> () -> {
          requireOpen("request");
          ctx.tracker().touch(sessionId);
          request(message.getRequest());
        };
        case CLOSE -> () -> {
          requireOpen("close");
          close();
        };
        case KIND_NOT_SET -> () -> {
          throw new SynodException(ErrorReason.PROTOCOL_VIOLATION,
              "empty ClientMessage: set one of open, resume, heartbeat, request, close");
        };
      };
      action.run();
    } catch (SynodException e) {
      endWith(e.toError());
    }
  }

  private void finishAfterHalfClose() {
    if (phase == Phase.ENDED) {
      return;
    }
    detach();
    out.complete();
  }

  private void requireOpen(String what) throws SynodException {
    if (phase != Phase.OPEN) {
      throw new SynodException(ErrorReason.PROTOCOL_VIOLATION,
          what + " before open or resume: the first message must open or resume a session");
    }
  }

  private void requireNew() throws SynodException {
    if (phase != Phase.NEW) {
      throw new SynodException(ErrorReason.PROTOCOL_VIOLATION,
          "this stream already has a session; open a new stream for another");
    }
  }

  private void open(OpenSessionRequest request) throws SynodException {
    requireNew();
    who = who.plus(ctx.authenticator().proveAll(request.getCredentialsList())); // else AUTH_FAILED
    long timeoutMs = ctx.config().negotiateTimeoutMs(request.getTimeoutMs());
    phase = Phase.OPENING;
    Txn.Builder txn = Txn.newBuilder().setCreateSession(ctx.validator().newSession(timeoutMs));
    long start = ctx.metrics().startNanos();
    ctx.pipeline().submit(txn, (applied, response) -> {
      meter("open_session", response, start);
      if (response.hasError()) {
        endWith(response.getError());
        return;
      }
      // The replica loop started tracking the session's liveness when it applied the creation.
      long id = applied.getSessionId();
      sessionId = id;
      ctx.registry().attach(id, this);
      send(ServerMessage.newBuilder().setOpened(SessionOpened.newBuilder()
          .setSessionId(id)
          .setSecret(applied.getCreateSession().getSecret())
          .setTimeoutMs(timeoutMs)
          .setLastZxid(applied.getZxid())).build());
      phase = Phase.OPEN;
      // Messages that arrived meanwhile are handled off the apply thread, in order.
      if (!inbox.isEmpty()) {
        hop.execute(this::drain);
      }
    });
  }

  private void resume(ResumeSession request) throws SynodException {
    requireNew();
    who = who.plus(ctx.authenticator().proveAll(request.getCredentialsList())); // else AUTH_FAILED
    StateMachine.SessionInfo info = SessionAccess.resume(ctx.state(), ctx.tracker(), request);
    long lastZxid = ctx.state().lastZxid();
    // A resumed session starts with no watches, as it would on any other server: the client
    // re-registers them (persistent ones from the last zxid it saw, so nothing is missed).
    ctx.state().removeWatcher(info.id());
    sessionId = info.id();
    StreamRegistry.Sink previous = ctx.registry().attach(info.id(), this);
    if (previous instanceof ClientSession old && old != this) {
      old.superseded();
    }
    phase = Phase.OPEN;
    send(ServerMessage.newBuilder().setOpened(SessionOpened.newBuilder()
        .setSessionId(info.id())
        .setSecret(info.secret())
        .setTimeoutMs(info.timeoutMs())
        .setLastZxid(lastZxid)
        .setResumed(true)).build());
  }

  private void close() throws SynodException {
    Txn.Builder txn = Txn.newBuilder()
        .setSessionId(sessionId)
        .setCloseSession(CloseSessionTxn.newBuilder().setExpired(false));
    // Counted as one of this stream's writes, so a half-close right behind it waits for it.
    synchronized (order) {
      writesSubmitted++;
    }
    try {
      ctx.pipeline().submit(txn, (applied, response) -> {
        if (response.hasError()) {
          endWith(response.getError());
        }
        // On success the state machine reports the ending through sessionEnded().
        writeCompleted();
      });
    } catch (SynodException e) {
      synchronized (order) {
        writesSubmitted--;
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests, in order

  private void request(Request request) {
    String op = request.getOpCase().name().toLowerCase(Locale.ROOT);
    long start = ctx.metrics().startNanos();
    Consumer<Response> reply = response -> {
      meter(op, response, start);
      respond(response);
    };
    if (request.getRequestNo() == 0) {
      ordered(() -> respondError(reply, request, new SynodException(ErrorReason.BAD_ARGUMENT,
          "request_no must be non-zero and increasing")));
      return;
    }
    Runnable action = switch (request.getOpCase()) { // a new op does not compile until handled
      case GET_DATA, EXISTS, GET_CHILDREN, GET_ACL, GET_QUOTA, ADD_WATCH, REMOVE_WATCH -> () -> {
        try {
          ctx.validator().checkRead(request);
        } catch (SynodException e) {
          ordered(() -> respondError(reply, request, e));
          return;
        }
        Identities asker = who; // as of this request, not of a later add_auth
        if (ReadConsistency.linearizable(request)) {
          // Behind a read barrier, in this stream's order like a write: the barrier completes
          // once this member has applied every write acknowledged before the read arrived.
          submitInOrder(request, reply, onApplied -> ctx.pipeline().barrier((zxid, error) -> {
            if (error != null) {
              onApplied.accept(Response.newBuilder().setRequestNo(request.getRequestNo())
                  .setZxid(ctx.state().lastZxid()).setError(error).build());
            } else {
              ctx.state().read(sessionId, asker, request, onApplied);
            }
          }));
        } else {
          ordered(() -> ctx.state().read(sessionId, asker, request, reply));
        }
      };
      case ADD_AUTH -> () -> {
        try {
          who = who.plus(ctx.authenticator().prove(request.getAddAuth().getCredential()));
        } catch (SynodException e) {
          ordered(() -> respondError(reply, request, e));
          return;
        }
        Identities now = who;
        ctx.state().setWatcherIdentities(sessionId, now);
        ordered(() -> reply.accept(Response.newBuilder().setRequestNo(request.getRequestNo())
            .setZxid(ctx.state().lastZxid())
            .setAddAuth(AddAuthResponse.newBuilder().addAllIdentities(now.list())).build()));
      };
      case STATUS -> () -> ordered(() -> reply.accept(Response.newBuilder()
          .setRequestNo(request.getRequestNo())
          .setZxid(ctx.state().lastZxid())
          .setStatus(ctx.status().get())
          .build()));
      case SYNC -> () -> submitInOrder(request, reply, onApplied -> ctx.pipeline().barrier((zxid, error) -> {
        Response.Builder r = Response.newBuilder().setRequestNo(request.getRequestNo());
        if (error != null) {
          r.setZxid(ctx.state().lastZxid()).setError(error);
        } else {
          r.setZxid(zxid).setSync(SyncResponse.newBuilder().setZxid(zxid));
        }
        onApplied.accept(r.build());
      }));
      case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA -> () -> {
        Txn.Builder txn;
        try {
          txn = ctx.validator().writeTxn(request)
              .setSessionId(sessionId)
              .setRequestNo(request.getRequestNo())
              .addAllIdentities(who.list());
        } catch (SynodException e) {
          ordered(() -> respondError(reply, request, e));
          return;
        }
        submitInOrder(request, reply, onApplied ->
            ctx.pipeline().submit(txn, (applied, response) -> onApplied.accept(response)));
      };
      case OP_NOT_SET -> () -> ordered(() -> respondError(reply, request,
          new SynodException(ErrorReason.BAD_ARGUMENT, "request has no operation set")));
    };
    action.run();
  }

  /** Counts one answered request (before it is sent, so a scrape after the answer sees it). */
  private void meter(String op, Response response, long startNanos) {
    if (response.hasError()) {
      ctx.metrics().requestDone("stream", op, response.getError().getReason().name(),
          response.getError().getMessage(), startNanos);
    } else {
      ctx.metrics().requestDone("stream", op, "ok", null, startNanos);
    }
  }

  /**
   * What one client message asks for. {@link #handle} yields one from a switch expression, so a
   * message kind added to the proto does not compile until it is handled.
   */
  @FunctionalInterface
  private interface Action {
    void run() throws SynodException;
  }

  /** Something that hands the pipeline a write or barrier whose result goes to the consumer. */
  @FunctionalInterface
  private interface Submission {
    void submit(Consumer<Response> onApplied) throws SynodException;
  }

  private void submitInOrder(Request request, Consumer<Response> reply, Submission submission) {
    synchronized (order) {
      long inFlight = writesSubmitted - writesCompleted + deferred.size();
      if (inFlight >= ctx.config().pendingRequestsPerSessionMax()) {
        deferred.add(new Deferred(writesSubmitted, () -> respondError(reply, request,
            new SynodException(ErrorReason.OVERLOADED, "this session has " + inFlight
                + " requests in flight; the limit is " + ctx.config().pendingRequestsPerSessionMax()))));
        return;
      }
      writesSubmitted++;
    }
    try {
      submission.submit(response -> {
        reply.accept(response);
        writeCompleted();
      });
    } catch (SynodException e) {
      synchronized (order) {
        writesSubmitted--;
      }
      ordered(() -> respondError(reply, request, e));
    }
  }

  /** Runs {@code action} now if no write of this stream is in flight, else right after them. */
  private void ordered(Runnable action) {
    synchronized (order) {
      if (writesSubmitted != writesCompleted || !deferred.isEmpty()) {
        deferred.add(new Deferred(writesSubmitted, action));
        return;
      }
    }
    action.run();
  }

  /**
   * Runs on the apply thread (holding the state lock) after one of this stream's writes was
   * applied. The actions that waited for it run while {@link #order} is held, so a request
   * arriving meanwhile cannot overtake them; taking the state's read lock inside is reentrant for
   * this thread, so the lock order above still holds.
   */
  private void writeCompleted() {
    synchronized (order) {
      writesCompleted++;
      while (!deferred.isEmpty() && deferred.peek().afterWrites() <= writesCompleted) {
        deferred.poll().action().run();
      }
    }
  }

  private void respond(Response response) {
    send(ServerMessage.newBuilder().setResponse(AnswerSize.bounded(response)).build());
  }

  private void respondError(Consumer<Response> reply, Request request, SynodException e) {
    reply.accept(Response.newBuilder()
        .setRequestNo(request.getRequestNo())
        .setZxid(ctx.state().lastZxid())
        .setError(e.toError())
        .build());
  }

  private void send(ServerMessage message) {
    out.send(message);
  }

  // ---------------------------------------------------------------------------------------------
  // Watch events and endings (called under the state lock or the watch registry's)

  @Override
  public void deliver(WatchEvent event) {
    send(ServerMessage.newBuilder().setEvent(event).build());
  }

  @Override
  public void sessionEnded(boolean expired, long zxid) {
    phase = Phase.ENDED;
    send(ServerMessage.newBuilder().setEnded(SessionEnded.newBuilder()
        .setReason(expired ? SessionEnded.Reason.EXPIRED : SessionEnded.Reason.CLOSED)
        .setZxid(zxid)).build());
    out.complete();
  }

  @Override
  public void disconnect(String why) {
    out.disconnect(why);
  }

  /** Another stream resumed this session. */
  private void superseded() {
    phase = Phase.ENDED;
    out.fail(Error.newBuilder()
        .setReason(ErrorReason.PROTOCOL_VIOLATION)
        .setMessage("session " + sessionId + " was resumed on another stream")
        .build());
  }

  private void endWith(Error error) {
    ctx.metrics().streamEnded(error.getReason().name(), error.getMessage());
    phase = Phase.ENDED;
    detach();
    out.fail(error);
  }
}
