package dev.synod.client;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CloseSessionRequest;
import dev.synod.api.v1.Credential;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.Heartbeat;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionEnded;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import io.grpc.Metadata;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The session and its recovery: one Session stream at a time, to the servers in turn; opening the
 * session, resuming it elsewhere after a failure (with the retry policy's backoff after each full
 * round), heartbeats and the liveness rules of {@link Liveness}, expiry, and closing. The requests
 * ({@link RequestPipeline}) and watches ({@link WatchRegistry}) ride on it. Its state is the loop's:
 * every method here runs on the loop unless it says otherwise.
 */
final class Session implements SessionStream.Events, RequestPipeline.Link {
  private static final Logger LOG = Logger.getLogger(Session.class.getName());
  private static final Metadata.Key<String> REASON_KEY =
      Metadata.Key.of("synod-error-reason", Metadata.ASCII_STRING_MARSHALLER);

  private final ClientLoop loop;
  private final Servers servers;
  private final RetryPolicy retry;
  private final long requestedTimeoutMs;
  private final boolean reconnectAfterExpiry;
  private final StateTracker state;
  /**
   * Credentials this client proves on every stream: the builder's, then each accepted addAuth.
   * Identities belong to the connection (as in ZooKeeper), so they are presented again with every
   * open and resume; never logged.
   */
  private final List<Credential> credentials = new CopyOnWriteArrayList<>();
  final RequestPipeline requests;
  final WatchRegistry watches;

  /** Set when the servers refused this client's credentials (AUTH_FAILED): it stops connecting. */
  private volatile SynodException authFailure;
  private boolean started;
  private volatile long sessionId;
  private long secret;
  private volatile long lastZxidSeen;
  private volatile SessionStream stream;
  private int consecutiveFailures;
  private long nextNonce = 1;
  private CompletableFuture<Void> closeAck;
  /** Written on the loop, read by the façade's getters. */
  private final Liveness liveness;

  Session(ClientLoop loop, Servers servers, RetryPolicy retry, long requestedTimeoutMs, boolean reconnectAfterExpiry,
      List<Credential> credentials, StateTracker state, Callbacks callbacks) {
    this.loop = loop;
    this.servers = servers;
    this.retry = retry;
    this.requestedTimeoutMs = requestedTimeoutMs;
    this.reconnectAfterExpiry = reconnectAfterExpiry;
    this.state = state;
    this.credentials.addAll(credentials);
    this.liveness = new Liveness(requestedTimeoutMs, loop.nanoTime());
    this.requests = new RequestPipeline(loop, retry, callbacks, this, this::sawZxid);
    this.watches = new WatchRegistry(callbacks,
        (request, onAnswer) -> requests.submit(request, onAnswer, new CompletableFuture<>(), null),
        () -> !state.is(ConnectionState.EXPIRED) && !state.is(ConnectionState.CLOSED));
  }

  // ===========================================================================================
  // Read from any thread

  long sessionId() {
    return sessionId;
  }

  long lastZxidSeen() {
    return lastZxidSeen;
  }

  /** The negotiated timeout (the requested one until a server answers). */
  synchronized long timeoutMs() {
    return liveness.timeoutMs();
  }

  synchronized long sinceHeardNanos() {
    return liveness.sinceHeardNanos(loop.nanoTime());
  }

  synchronized long confirmedLeftNanos() {
    return liveness.confirmedLeftNanos(loop.nanoTime());
  }

  InetSocketAddress currentServer() {
    SessionStream s = stream;
    return s != null && s.opened ? s.server : null;
  }

  /** Why calls fail at once (wrong credentials), or null. */
  SynodException authFailure() {
    return authFailure;
  }

  /** A credential the server accepted through addAuth: presented again on every reconnect. */
  void credentialAccepted(Credential c) {
    if (!credentials.contains(c)) {
      credentials.add(c);
    }
  }

  // ===========================================================================================
  // Life cycle (loop)

  void start() {
    if (!started) {
      started = true;
      connect();
      scheduleTick();
    }
  }

  /** After EXPIRED: a new session. */
  void restart() {
    if (state.is(ConnectionState.EXPIRED)) {
      consecutiveFailures = 0;
      connect();
    }
  }

  /** Asks the server to close the session; {@code ack} completes when it has (or there is none). */
  void beginClose(CompletableFuture<Void> ack) {
    if (state.is(ConnectionState.CLOSED)) {
      ack.complete(null);
      return;
    }
    closeAck = ack;
    SessionStream s = stream;
    if (s != null && s.opened && sessionId != 0) {
      send(s, ClientMessage.newBuilder().setClose(CloseSessionRequest.getDefaultInstance()).build());
    } else {
      ack.complete(null);
    }
  }

  /** Drops the stream and fails everything that waits: the client is closed. */
  void finishClose() {
    SessionStream s = stream;
    stream = null;
    if (s != null) {
      s.dead = true;
      s.cancel();
    }
    state.set(ConnectionState.CLOSED);
    requests.failAll(new ClientClosedException());
    watches.clear();
  }

  // ===========================================================================================
  // RequestPipeline.Link

  @Override
  public SessionStream sendable() {
    SessionStream s = stream;
    return s == null || !s.opened ? null : s;
  }

  @Override
  public void send(SessionStream s, ClientMessage m) {
    if (s == null || s.dead) {
      return;
    }
    if (!s.send(m)) {
      failStream(s, "send to " + s.server + " failed");
    }
  }

  @Override
  public void moveOn(String why) {
    failStream(stream, why);
  }

  @Override
  public SynodException refusal() {
    if (state.is(ConnectionState.CLOSED)) {
      return new ClientClosedException();
    }
    if (state.is(ConnectionState.EXPIRED)) {
      return new SessionExpiredException("the session expired; call restartSession() for a new one");
    }
    SessionStream s = stream;
    if (sessionId == 0 && consecutiveFailures >= retry.maxAttempts() && (s == null || !s.opened)) {
      return new ConnectionLossException("no server reachable after " + consecutiveFailures + " attempts", null);
    }
    return null;
  }

  // ===========================================================================================
  // Streams (loop)

  private void connect() {
    if (state.is(ConnectionState.CLOSED)) {
      return;
    }
    InetSocketAddress address = servers.next();
    SessionStream s = new SessionStream(address, loop, this);
    stream = s;
    try {
      s.out = SynodGrpc.newStub(servers.channel(address)).session(s);
    } catch (RuntimeException e) {
      onEnded(s, e);
      return;
    }
    boolean resume = sessionId != 0 && !state.is(ConnectionState.EXPIRED);
    if (resume) {
      send(s, ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
          .setSessionId(sessionId).setSecret(secret).setLastZxidSeen(lastZxidSeen)
          .addAllCredentials(credentials)).build());
    } else {
      send(s, ClientMessage.newBuilder().setOpen(OpenSessionRequest.newBuilder()
          .setTimeoutMs(requestedTimeoutMs).addAllCredentials(credentials)).build());
    }
    // A resume is answered locally; an open goes through consensus (may wait for an election).
    long timeoutMs = timeoutMs();
    long patienceMs = resume ? Math.max(200, timeoutMs / 3) : Math.max(5000, 2 * requestedTimeoutMs);
    s.connectTimer = loop.schedule(() -> {
      if (stream == s && !s.opened) {
        failStream(s, "no answer to " + (resume ? "resume" : "open") + " within " + patienceMs + " ms");
      }
    }, TimeUnit.MILLISECONDS.toNanos(patienceMs));
  }

  @Override
  public void onMessage(SessionStream s, ServerMessage m) {
    if (s != stream || s.dead) {
      return;
    }
    synchronized (this) {
      liveness.heard(loop.nanoTime());
    }
    switch (m.getKindCase()) {
      case OPENED -> onOpened(s, m.getOpened());
      case RESPONSE -> requests.onResponse(m.getResponse());
      case EVENT -> onEvent(m.getEvent());
      case ENDED -> {
        if (m.getEnded().getReason() == SessionEnded.Reason.EXPIRED) {
          expire("the server expired the session");
        } else if (closeAck != null) {
          closeAck.complete(null);
        } else {
          expire("the session was closed");
        }
      }
      case HEARTBEAT -> onHeartbeatReply(s, m.getHeartbeat());
      case KIND_NOT_SET -> { }
    }
  }

  private void onEvent(WatchEvent e) {
    if (e.getType() != EventType.RESYNC_NEEDED) {
      sawZxid(e.getZxid());
    }
    watches.onEvent(e);
  }

  private void sawZxid(long zxid) {
    if (zxid > lastZxidSeen) {
      lastZxidSeen = zxid;
    }
  }

  /**
   * A server that is not in touch with the leader cannot vouch for the session: move on at once.
   * A confirmed reply extends the confirmed time and, if it leaves enough, ends a suspension.
   */
  private void onHeartbeatReply(SessionStream s, HeartbeatReply reply) {
    long sentNanos = s.heartbeatSentNanos(reply.getNonce());
    if (!reply.getConfirmed()) {
      failStream(s, s.server + " cannot confirm the session: it has lost touch with the leader");
      return;
    }
    boolean enough;
    synchronized (this) {
      liveness.confirmed(sentNanos, reply.getTimeLeftMs());
      enough = liveness.enoughConfirmed(loop.nanoTime());
    }
    if (state.is(ConnectionState.SUSPENDED) && enough) {
      state.set(ConnectionState.RECONNECTED);
    }
  }

  private void onOpened(SessionStream s, SessionOpened opened) {
    s.opened = true;
    if (s.connectTimer != null) {
      s.connectTimer.cancel();
    }
    consecutiveFailures = 0;
    long now = loop.nanoTime();
    s.openedNanos = now;
    s.lastHeartbeatNanos = now;
    boolean fresh = !opened.getResumed();
    synchronized (this) {
      liveness.timeoutMs(opened.getTimeoutMs());
      if (fresh) {
        liveness.opened(s.startedNanos);
      }
    }
    if (fresh) {
      sessionId = opened.getSessionId();
      secret = opened.getSecret();
      watches.clearOneShots();
    }
    // Unanswered requests first, in order, with their original numbers (the server deduplicates writes).
    requests.newStream();
    // The state first: after an expiry it is still EXPIRED, which would refuse the re-registrations.
    if (fresh) {
      state.set(ConnectionState.CONNECTED);
    } else {
      // A resume is answered by this server alone: ask it at once whether it can confirm the
      // session. Until it does, the client stays SUSPENDED unless enough is still confirmed.
      sendHeartbeat(s);
      boolean enough;
      synchronized (this) {
        enough = liveness.enoughConfirmed(loop.nanoTime());
      }
      if (enough) {
        // A reconnection only for an application that saw the session in doubt; a client still
        // CONNECTED (its stream broke, the session stayed confirmed throughout) changed nothing.
        if (!state.connected()) {
          state.set(ConnectionState.RECONNECTED);
        }
      } else if (!state.is(ConnectionState.SUSPENDED)) {
        state.set(ConnectionState.SUSPENDED);
      }
    }
    watches.reRegister(fresh);
  }

  @Override
  public void onEnded(SessionStream s, Throwable t) {
    if (s != stream || s.dead) {
      return;
    }
    s.dead = true;
    stream = null;
    if (s.connectTimer != null) {
      s.connectTimer.cancel();
    }
    if (state.is(ConnectionState.CLOSED)) {
      return;
    }
    if (closeAck != null) {
      closeAck.complete(null);
      return;
    }
    ErrorReason reason = reasonOf(t);
    if (reason == ErrorReason.AUTH_FAILED) {
      // Wrong credentials stay wrong on every server: stop, and fail what waits (ZooKeeper's
      // AUTH_FAILED state). The message is the server's, which never names the credential.
      authFailure = new AuthFailedException("the servers refused this client's credentials: " + describe(t), "");
      LOG.warning(() -> "authentication failed on " + s.server + "; not reconnecting");
      requests.failAll(authFailure);
      return;
    }
    if (reason == ErrorReason.SESSION_EXPIRED || reason == ErrorReason.SESSION_SECRET_MISMATCH) {
      expire("the server does not know the session any more (" + reason + ")");
      return;
    }
    if (reason == ErrorReason.SESSION_ZXID_AHEAD || reason == ErrorReason.OVERLOADED) {
      requests.countRetry(reason);
      LOG.fine(() -> s.server + " refused the stream (" + reason + "); trying another server");
    }
    if (state.connected()) {
      state.set(ConnectionState.SUSPENDED);
    }
    if (s.opened) {
      consecutiveFailures = 0;
    }
    consecutiveFailures++;
    if (sessionId == 0 && consecutiveFailures >= retry.maxAttempts() && !requests.isEmpty()) {
      requests.failAll(new ConnectionLossException("no server reachable after " + consecutiveFailures
          + " attempts; last failure: " + describe(t), t));
    }
    if (expiredLocally()) {
      return;
    }
    // Only if nothing started a stream meanwhile (an expiry reconnects at once): a stale retry
    // would replace a live stream, opening or resuming the session a second time.
    loop.schedule(() -> {
      if (stream == null) {
        connect();
      }
    }, TimeUnit.MILLISECONDS.toNanos(reconnectDelayMs(reason)));
  }

  /**
   * Moving on to the next server of a round is immediate; after a full round (or a server that
   * said OVERLOADED) the retry policy's backoff, capped at a fifth of the timeout while there is a
   * session to save.
   */
  private long reconnectDelayMs(ErrorReason reason) {
    if (consecutiveFailures % servers.size() != 0 && reason != ErrorReason.OVERLOADED) {
      return 0;
    }
    long delayMs = retry.delayMs(consecutiveFailures / servers.size());
    if (sessionId != 0) {
      delayMs = Math.min(delayMs, Math.max(1, timeoutMs() / 5));
    }
    return delayMs;
  }

  /** With a session but no server heard from for longer than its timeout: the session is gone. */
  private boolean expiredLocally() {
    boolean gone;
    synchronized (this) {
      gone = liveness.expiredLocally(loop.nanoTime());
    }
    if (sessionId != 0 && state.is(ConnectionState.SUSPENDED) && gone) {
      expire("no server reachable for longer than the session timeout (" + timeoutMs() + " ms)");
      return true;
    }
    return false;
  }

  private void failStream(SessionStream s, String why) {
    if (s == null) {
      return;
    }
    s.cancel();
    onEnded(s, Status.UNAVAILABLE.withDescription(why).asRuntimeException());
  }

  private void expire(String why) {
    if (state.is(ConnectionState.EXPIRED) || state.is(ConnectionState.CLOSED)) {
      return;
    }
    LOG.info(() -> "session " + Long.toUnsignedString(sessionId) + " expired: " + why);
    SessionStream s = stream;
    stream = null;
    if (s != null) {
      s.dead = true;
      s.cancel();
    }
    sessionId = 0;
    synchronized (this) {
      liveness.ended(loop.nanoTime());
    }
    watches.sessionEnded();
    // The state first: a caller woken by the failure must find the client EXPIRED already.
    state.set(ConnectionState.EXPIRED);
    requests.failAll(new SessionExpiredException("session expired: " + why));
    requests.newSession();
    if (reconnectAfterExpiry) {
      consecutiveFailures = 0;
      connect();
    }
  }

  // ===========================================================================================
  // Ticks and heartbeats (loop)

  private void scheduleTick() {
    long tickMs;
    synchronized (this) {
      tickMs = liveness.tickMs();
    }
    loop.schedule(() -> {
      if (state.is(ConnectionState.CLOSED)) {
        return;
      }
      SessionStream s = stream;
      if (s != null && s.opened) {
        checkStream(s);
      } else if (s == null) {
        expiredLocally();
      }
      scheduleTick();
    }, TimeUnit.MILLISECONDS.toNanos(tickMs));
  }

  private void checkStream(SessionStream s) {
    Liveness.Check check;
    synchronized (this) {
      check = liveness.check(loop.nanoTime(), s, state.get());
    }
    switch (check.action()) {
      case MOVE_ON -> failStream(s, check.why());
      case HEARTBEAT -> sendHeartbeat(s);
      case NOTHING -> { }
    }
  }

  private void sendHeartbeat(SessionStream s) {
    long nonce = nextNonce++;
    s.heartbeatSent(nonce, loop.nanoTime());
    send(s, ClientMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setNonce(nonce)).build());
  }

  private static ErrorReason reasonOf(Throwable t) {
    Metadata trailers = t == null ? null : Status.trailersFromThrowable(t);
    String r = trailers == null ? null : trailers.get(REASON_KEY);
    if (r == null) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      return ErrorReason.valueOf(r);
    } catch (IllegalArgumentException e) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
  }

  private static String describe(Throwable t) {
    return t == null ? "stream ended" : Status.fromThrowable(t).toString();
  }
}
