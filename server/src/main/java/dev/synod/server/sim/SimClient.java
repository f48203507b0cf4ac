package dev.synod.server.sim;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Heartbeat;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.pipeline.ReadConsistency;
import dev.synod.server.pipeline.SessionOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A client of the simulated cluster that behaves like the SDK, speaking the session stream's
 * protocol ({@link ClientMessage} in, {@link ServerMessage} out) to each member's real session
 * pipeline, over a link that delays messages but keeps their order both ways, as TCP does. It
 * opens a session on one member and keeps a stream to one member at a time, heartbeats on it
 * (trusting only what the member confirms, for the time it confirms), writes with increasing
 * request numbers, each naming its predecessor (a few in flight), reads from its member (plain
 * reads) and syncs. A writer also keeps a persistent watch on every plain key and checks that it
 * delivers each change once, in zxid order, with its value (or says RESYNC_NEEDED). When its
 * member goes quiet or down, or refuses, it fails over: it resumes the session on another member
 * (which refuses if it is behind the highest zxid the client has seen), registers its watches
 * again from the last change each delivered, and resends its unanswered writes there, in order,
 * with the same numbers; answers still coming on a stream it left are not taken. A client is
 * either a writer of plain keys or a lock contender ({@link SimLockRecipe}). Everything it is
 * told goes to {@link History}.
 */
final class SimClient {
  /** A write sent and not answered yet. */
  private static final class Pending {
    final long requestNo;
    final Request request;
    final long floorZxid;
    final long invokeNanos;
    /** Told the decided answer; null when nobody waits for it. */
    final Consumer<Response> then;
    int attempts;
    /** The stream it was last sent on. */
    int sentOn;

    Pending(Request request, long floorZxid, long invokeNanos, Consumer<Response> then) {
      this.requestNo = request.getRequestNo();
      this.request = request;
      this.floorZxid = floorZxid;
      this.invokeNanos = invokeNanos;
      this.then = then;
    }
  }

  /** A read in flight; while it is, nothing else is sent, so its floor is exactly what was seen. */
  /**
   * A read in flight. {@code ackedFloorZxid}: for a linearizable read, the highest zxid
   * acknowledged to anyone when it was sent (its answer must be at least that); else -1.
   */
  private record Read(Request request, long floorZxid, long ackedFloorZxid, long invokeNanos, Conn on,
      Consumer<Response> then) {}

  /** A Sync in flight (kept until answered, on whichever stream, for the history). */
  private record Sync(long floorZxid, long invokeNanos, Conn on, LongConsumer then) {}

  /**
   * A session stream to one process of one member. What the member sends comes back through
   * this {@link SessionOutput}, delayed, in order, and only while it is the client's stream.
   */
  private final class Conn implements SessionOutput {
    final int member;
    final int number;
    /** The session it carries (0 while an open is in flight). */
    long session;
    SimServer.Stream server;
    /** Opened or resumed: requests may go. */
    boolean ready;
    final long createdNanos;
    long toServerAtNanos;
    long toClientAtNanos;
    /** Per key: the AddWatch answered on this stream. */
    final boolean[] watching = new boolean[KEYS];
    /** AddWatch request number -> key. */
    final Map<Long, Integer> watchRequests = new HashMap<>();

    Conn(int member, long session) {
      this.member = member;
      this.number = ++streams;
      this.session = session;
      this.createdNanos = sim.nowNanos();
    }

    void toServer(ClientMessage message) {
      long at = Math.max(sim.nowNanos() + sim.clientDelayNanos(), toServerAtNanos);
      toServerAtNanos = at;
      sim.at(at - sim.nowNanos(), () -> server.receive(message));
    }

    private void toClient(Runnable arrival) {
      long at = Math.max(sim.nowNanos() + sim.clientDelayNanos(), toClientAtNanos);
      toClientAtNanos = at;
      sim.at(at - sim.nowNanos(), arrival);
    }

    @Override
    public void send(ServerMessage message) {
      toClient(() -> received(this, message));
    }

    @Override
    public void fail(Error error) {
      // What the member knew of the session when it refused, for the history's check.
      SimServer s = sim.server(member);
      long memberZxid = s.isUp() ? s.state().lastZxid() : 0;
      boolean known = s.isUp() && session != 0 && s.state().session(session).isPresent();
      toClient(() -> failed(this, error, memberZxid, known));
    }

    @Override
    public void disconnect(String why) {
      toClient(() -> broken(this));
    }

    @Override
    public void complete() {
      toClient(() -> broken(this));
    }
  }

  private static final long MS = 1_000_000L;
  /** Writes in flight at once. */
  private static final int IN_FLIGHT_MAX = 3;
  /** Silence after which the client gives up on its member and resends elsewhere. */
  private static final long ANSWER_TIMEOUT_NANOS = 1_500 * MS;
  /** The plain keys writers set and everyone reads; nobody deletes them. */
  private static final int KEYS = 4;

  private final int id;
  private final ServerSimulator sim;
  private final History history;
  private final SplittableRandom random;
  /** Set for a lock contender, null for a writer. */
  private final SimLockRecipe lock;
  private final TreeMap<Long, Pending> unanswered = new TreeMap<>();
  private int member;
  /** The current stream (opened or resumed, or resuming), or null. */
  private Conn conn;
  private int streams;
  private long sessionId;
  private long secret;
  private long sessionTimeoutMs;
  /** The stream an open is in flight on, or null. */
  private Conn opening;
  private long openSentNanos;
  private long lastSentNanos;
  private long lastHeartbeatNanos;
  /** Heartbeats in flight: nonce -> when sent. */
  private final Map<Long, Long> heartbeats = new HashMap<>();
  private long heartbeatNonce;
  /** When the current stream was made (a resumed session gets a while to be confirmed there). */
  private long streamNanos;
  /**
   * Until when the servers confirmed the session (the SDK's confirmedTimeLeft): the time left of
   * the last confirmed heartbeat reply, counted from when the heartbeat was sent.
   */
  private long confirmedUntilNanos;
  /** The highest zxid this client has seen (answers, reads, syncs, events): lastZxidSeen. */
  private long seenZxid;
  private long nextRequestNo = 1;
  /** The session's previous write: each write names it (after_request_no), as the SDK does. */
  private long lastWriteRequestNo;
  private long ephemerals;
  /** The version of each plain key this client last saw (read, or set by it): what its CAS names. */
  private final Map<String, Integer> knownVersion = new HashMap<>();
  private Read reading;
  /** Syncs in flight by request number; {@link #syncing} is the one the client waits for. */
  private final Map<Long, Sync> syncs = new HashMap<>();
  private long syncing;
  private long syncSentNanos;
  /**
   * Per key (writers): the zxid through which its watch has delivered every change, or -1 before
   * it is registered (or after a RESYNC_NEEDED, until the registration's answer says from where).
   */
  private final long[] watchedThrough = new long[KEYS];
  private long resumesRefused;
  private long resyncs;
  /** The last answer that asked for a resend, for failure reports. */
  private String lastRefusal = "none";

  SimClient(int id, boolean contender, ServerSimulator sim, History history, SplittableRandom random) {
    this.id = id;
    this.sim = sim;
    this.history = history;
    this.random = random;
    this.member = 1 + random.nextInt(sim.replicas());
    this.lock = contender ? new SimLockRecipe(this, sim, history.locks(), random) : null;
    Arrays.fill(watchedThrough, -1);
  }

  /** Whether {@code path} is one of the plain keys the writers set and watch. */
  static boolean isKey(String path) {
    return path.length() == 3 && path.startsWith("/k") && path.charAt(2) >= '0' && path.charAt(2) - '0' < KEYS;
  }

  private static String key(int k) {
    return "/k" + k;
  }

  int id() {
    return id;
  }

  /** Whether a write of the current session is still unanswered. */
  boolean waiting() {
    return !unanswered.isEmpty();
  }

  /** What the client waits for, and what its member knows of its session (for failure reports). */
  String describeWait() {
    SimServer s = sim.server(member);
    String view = !s.isUp() ? "member down"
        : "member lastZxid " + s.state().lastZxid() + ", session " + (s.state().session(sessionId).isPresent()
            ? "alive" : "unknown") + ", leader " + s.isLeader();
    return "client " + id + " (session " + sessionId + ", member " + member + ": " + view + ", stream "
        + (conn == null ? "none" : conn.number + " to member " + conn.member + (conn.ready ? "" : " (resuming)"))
        + ", seen zxid " + seenZxid + ") waits for requests " + unanswered.keySet() + " (attempts "
        + unanswered.values().stream().map(p -> p.attempts).toList() + ", last write "
        + lastWriteRequestNo + ", last sent " + (sim.nowNanos() - lastSentNanos) / MS
        + " ms ago; last refusal " + lastRefusal + ")";
  }

  /** Resumes refused because the member was behind what this client had seen. */
  long resumesRefused() {
    return resumesRefused;
  }

  /** RESYNC_NEEDED events its watches got. */
  long resyncs() {
    return resyncs;
  }

  /**
   * At the end, once everything settled: a change of a watched key that the member holding this
   * client's stream applied and the watch never delivered, or null.
   */
  String missedWatchEvent() {
    if (lock != null || conn == null || !conn.ready || sessionId == 0 || !conn.server.alive()) {
      return null;
    }
    long memberZxid = sim.server(conn.member).state().lastZxid();
    for (int k = 0; k < KEYS; k++) {
      if (!conn.watching[k] || watchedThrough[k] < 0) {
        continue;
      }
      Map.Entry<Long, ByteString> next = history.keyChangeAfter(key(k), watchedThrough[k]);
      if (next != null && next.getKey() <= memberZxid) {
        return "client " + id + "'s watch on " + key(k) + " (stream " + conn.number + " to member "
            + conn.member + ", at zxid " + memberZxid + ") delivered changes through zxid "
            + watchedThrough[k] + " but never the change at zxid " + next.getKey();
      }
    }
    return null;
  }

  /** One step of the client's life; schedules the next. */
  void act() {
    long now = sim.nowNanos();
    if (sim.clientsFrozen()) {
      return;
    }
    if (sessionId == 0) {
      if (sim.writing() && (opening == null || now - openSentNanos > ANSWER_TIMEOUT_NANOS
          || !opening.server.alive())) {
        open();
      }
    } else if (attached(now)) {
      heartbeat(now);
      if (conn != null && conn.ready) { // still on this member, with a session
        resendUnsent();
        if (!unanswered.isEmpty() && now - lastSentNanos > ANSWER_TIMEOUT_NANOS) {
          failOver(); // the next step resumes elsewhere and resends there
        } else {
          if (syncing != 0 && now - syncSentNanos > ANSWER_TIMEOUT_NANOS) {
            syncing = 0; // its member went down: no answer will come
          }
          if (reading != null && !reading.on.server.alive()) {
            reading = null;
          }
          if (reading == null) {
            if (lock != null) {
              lock.step(now);
            } else {
              writerStep();
            }
          }
        }
      }
    }
    if (lock != null) {
      lock.tick(now);
    }
    sim.at((5 + random.nextInt(60)) * MS, this::act);
  }

  // -----------------------------------------------------------------------------------------------
  // Sessions and streams

  private void open() {
    failOverIfDown();
    if (!sim.server(member).isUp()) {
      return;
    }
    openSentNanos = sim.nowNanos();
    long timeoutMs = 1_000 + random.nextInt(2_000);
    opening = connect(0);
    opening.toServer(ClientMessage.newBuilder()
        .setOpen(OpenSessionRequest.newBuilder().setTimeoutMs(timeoutMs)).build());
  }

  private Conn connect(long session) {
    Conn c = new Conn(member, session);
    c.server = sim.server(member).connect(c);
    return c;
  }

  /**
   * Whether the client has a ready stream to a live member. With none, it resumes the session on
   * {@link #member}; the member answers by the server's own rules: one behind what the client has
   * seen, or behind the session's creation, refuses (the client tries another); one that no
   * longer holds the session, or is expiring it, says it expired, which the SDK takes as final.
   */
  private boolean attached(long now) {
    if (conn != null) {
      if (!conn.server.alive()) {
        detach(); // the process died (and maybe restarted): its streams are gone
      } else if (conn.ready) {
        return true;
      } else {
        if (now - conn.createdNanos > ANSWER_TIMEOUT_NANOS) {
          failOver(); // the resume was never answered
        }
        return false;
      }
    }
    if (!sim.server(member).isUp()) {
      failOver();
      return false;
    }
    conn = connect(sessionId);
    conn.toServer(ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
        .setSessionId(sessionId).setSecret(secret).setLastZxidSeen(seenZxid)).build());
    return false;
  }

  /** What a member sent on stream {@code on}, arriving now. */
  private void received(Conn on, ServerMessage message) {
    switch (message.getKindCase()) {
      case OPENED -> opened(on, message.getOpened());
      case HEARTBEAT -> {
        if (on == conn) {
          heartbeatAnswered(message.getHeartbeat());
        }
      }
      case RESPONSE -> responded(on, message.getResponse());
      case EVENT -> {
        if (on == conn) {
          event(message.getEvent());
        }
      }
      case ENDED -> {
        if (on == conn && on.session == sessionId) {
          history.ended(sessionId, message.getEnded().getZxid(), "SessionEnded from member " + on.member);
          sessionEnded();
        }
      }
      case KIND_NOT_SET -> throw new IllegalStateException("an empty ServerMessage from member " + on.member);
    }
  }

  private void opened(Conn on, SessionOpened opened) {
    if (!opened.getResumed()) {
      if (on != opening) {
        return; // a late answer to an open given up on: that session will expire
      }
      opening = null;
      sessionId = opened.getSessionId();
      secret = opened.getSecret();
      sessionTimeoutMs = opened.getTimeoutMs();
      unanswered.clear();
      // The answer comes on the stream that opened it, from a member that applied the creation.
      on.session = sessionId;
      member = on.member;
      conn = on;
      seen(opened.getLastZxid());
      lastHeartbeatNanos = sim.nowNanos();
      // Created through the log after it was asked for: the leader's full timeout started later.
      confirm(openSentNanos + sessionTimeoutNanos());
    } else if (on != conn) {
      return;
    } else {
      lastHeartbeatNanos = Long.MIN_VALUE / 2; // ask at once whether this member can confirm it
    }
    on.ready = true;
    streamNanos = sim.nowNanos();
    watchKeys(on);
  }

  /** The member ended stream {@code on} with {@code error}, knowing what it said at the time. */
  private void failed(Conn on, Error error, long memberZxid, boolean sessionKnown) {
    if (on == opening) {
      opening = null;
      failOver();
      return;
    }
    if (on != conn) {
      return;
    }
    switch (error.getReason()) {
      case SESSION_ZXID_AHEAD -> {
        resumesRefused++;
        failOver();
      }
      case SESSION_EXPIRED -> {
        if (!sessionKnown) {
          history.ended(sessionId, memberZxid, "a resume on member " + on.member);
        } // else the member's leader is expiring it: the close is on its way to the log
        sessionEnded();
      }
      default -> {
        lastRefusal = error.getReason() + " ending stream " + on.number + ": " + error.getMessage();
        failOver();
      }
    }
  }

  /** Stream {@code on} ended without an error (the member lost its state, or closed it). */
  private void broken(Conn on) {
    if (on == opening) {
      opening = null;
    }
    if (on == conn) {
      detach(); // resume, on the same member if it is up
    }
  }

  /**
   * Heartbeats as the SDK does: every third of the timeout, and at every step while less than a
   * third stays confirmed. A member that cannot confirm, or leaves less than a sixth of the
   * timeout confirmed (past a third of it since the stream was made, for a resumed session to be
   * confirmed), is left for another.
   */
  private void heartbeat(long now) {
    long timeoutNanos = sessionTimeoutNanos();
    if (now - lastHeartbeatNanos < timeoutNanos / 3 && confirmedUntilNanos - now >= timeoutNanos / 3) {
      return;
    }
    lastHeartbeatNanos = now;
    long nonce = ++heartbeatNonce;
    heartbeats.put(nonce, now);
    conn.toServer(ClientMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setNonce(nonce)).build());
  }

  private void heartbeatAnswered(HeartbeatReply reply) {
    Long sent = heartbeats.remove(reply.getNonce());
    if (sent == null) {
      return;
    }
    heartbeats.keySet().removeIf(n -> n < reply.getNonce()); // older ones are not coming any more
    long now = sim.nowNanos();
    if (!reply.getConfirmed()) {
      failOver(); // it has lost touch with the leader: it cannot vouch for the session
      return;
    }
    if (reply.getTimeLeftMs() > 0) {
      confirm(sent + reply.getTimeLeftMs() * MS);
    }
    long timeoutNanos = sessionTimeoutNanos();
    if (confirmedUntilNanos - now < timeoutNanos / 6 && now - streamNanos > timeoutNanos / 3) {
      failOver();
    }
  }

  private void confirm(long untilNanos) {
    if (untilNanos > confirmedUntilNanos) {
      confirmedUntilNanos = untilNanos;
      history.confirmed(sessionId, untilNanos);
      if (lock != null) {
        lock.confirmed(untilNanos);
      }
    }
  }

  private void sessionEnded() {
    sessionId = 0;
    lastWriteRequestNo = 0;
    confirmedUntilNanos = 0;
    opening = null;
    unanswered.clear();
    detach();
    if (lock != null) {
      lock.sessionEnded();
    }
  }

  /** Leaves the current stream: whatever it still answers is not taken. */
  private void detach() {
    conn = null;
    reading = null;
    syncing = 0;
    heartbeats.clear();
  }

  private void failOverIfDown() {
    if (!sim.server(member).isUp()) {
      failOver();
    }
  }

  private void failOver() {
    List<Integer> up = new ArrayList<>();
    for (int m = 1; m <= sim.replicas(); m++) {
      if (m != member && sim.server(m).isUp()) {
        up.add(m);
      }
    }
    if (!up.isEmpty()) {
      member = up.get(random.nextInt(up.size()));
    }
    detach();
    lastHeartbeatNanos = 0;
  }

  private void seen(long zxid) {
    seenZxid = Math.max(seenZxid, zxid);
  }

  private long nextRequestNo() {
    return nextRequestNo++;
  }

  private void request(Request request) {
    conn.toServer(ClientMessage.newBuilder().setRequest(request).build());
  }

  /** What a member answered on stream {@code on}. */
  private void responded(Conn on, Response response) {
    long no = response.getRequestNo();
    Pending p = unanswered.get(no);
    if (p != null && on.session == sessionId) {
      answered(on, p, response);
      return;
    }
    Sync s = syncs.remove(no);
    if (s != null) {
      synced(no, s, response);
      return;
    }
    Integer watched = on.watchRequests.remove(no);
    if (watched != null) {
      watchRegistered(on, watched, response);
      return;
    }
    if (reading != null && reading.on == on && reading.request.getRequestNo() == no) {
      readAnswered(reading, response);
    }
    // Else: a write answered twice (resent on this stream after a resend elsewhere), or an
    // answer on a stream left behind; the history took the first.
  }

  // -----------------------------------------------------------------------------------------------
  // Writes

  private void writerStep() {
    if (!sim.writing()) {
      return;
    }
    int dice = random.nextInt(16);
    if (dice < 11 && unanswered.size() < IN_FLIGHT_MAX) {
      write();
    } else if (dice < 14 && idle()) {
      readKey();
    } else if (dice < 16 && syncing == 0) {
      sync(null);
    }
  }

  private void write() {
    int kind = random.nextInt(10);
    ByteString value = ByteString.copyFromUtf8("c" + id + "-r" + nextRequestNo);
    Request.Builder request = Request.newBuilder();
    if (kind < 5) {
      String path = key(random.nextInt(KEYS));
      int set = random.nextInt(4);
      if (set < 2) {
        request.setSetData(SetDataRequest.newBuilder().setPath(path).setData(value).setVersion(-1));
      } else if (set == 2) {
        // Compare-and-set against the version this client last saw (it may be stale by now:
        // then BAD_VERSION, which the history's own count of versions must agree with).
        request.setSetData(SetDataRequest.newBuilder().setPath(path).setData(value)
            .setVersion(knownVersion.getOrDefault(path, 0)));
      } else {
        request.setCreate(CreateRequest.newBuilder().setPath(path).setData(value).setKind(NodeKind.PERSISTENT));
      }
    } else if (kind < 8) {
      request.setCreate(CreateRequest.newBuilder().setPath("/e" + id + "-" + (++ephemerals))
          .setData(value).setKind(NodeKind.EPHEMERAL));
    } else {
      request.setDelete(DeleteRequest.newBuilder().setPath("/e" + id + "-" + Math.max(1, ephemerals)).setVersion(-1));
    }
    send(request, null);
  }

  /**
   * Sends a write of the current session on the current stream; {@code then} (if not null) is
   * told its decided answer.
   */
  void send(Request.Builder op, Consumer<Response> then) {
    long requestNo = nextRequestNo();
    Request request = op.setRequestNo(requestNo).setAfterRequestNo(lastWriteRequestNo).build();
    lastWriteRequestNo = requestNo;
    Pending p = new Pending(request, history.maxAckedZxid(), sim.nowNanos(), then);
    unanswered.put(requestNo, p);
    send(p);
  }

  private void send(Pending p) {
    p.attempts++;
    p.sentOn = conn.number;
    lastSentNanos = sim.nowNanos();
    request(p.request);
  }

  /** After a failover: the writes not sent on this stream yet, in order, with the same numbers. */
  private void resendUnsent() {
    for (Pending p : new ArrayList<>(unanswered.values())) {
      if (p.sentOn != conn.number) {
        send(p);
      }
    }
  }

  private void answered(Conn on, Pending p, Response response) {
    history.answered(on.session, p.requestNo, p.floorZxid, p.invokeNanos, sim.nowNanos(), response, p.attempts);
    if (p.request.hasSetData() && response.hasSetData()) {
      knownVersion.put(p.request.getSetData().getPath(), response.getSetData().getStat().getVersion());
    }
    if (on != conn) {
      return; // a stream this client left: the write was resent on the current one
    }
    seen(response.getZxid());
    if (!response.hasError()) {
      decided(p, response);
      return;
    }
    ErrorReason reason = response.getError().getReason();
    switch (reason) {
      case LEADER_UNAVAILABLE, SHUTTING_DOWN, OVERLOADED, STORAGE_FAILURE, OUT_OF_ORDER -> {
        lastRefusal = reason + " for " + p.requestNo + ": " + response.getError().getMessage();
        // May or may not have applied (or its predecessor has not yet): resend everything
        // unanswered soon, in order, with the same numbers (deduplicated).
        lastSentNanos = Long.MIN_VALUE / 2;
      }
      case SESSION_EXPIRED -> sessionEnded();
      case REQUEST_TOO_OLD -> {
        history.lost(on.session, p.requestNo, response.getError().getMessage());
        unanswered.remove(p.requestNo);
      }
      default -> decided(p, response); // NO_NODE, NODE_EXISTS, ...
    }
  }

  private void decided(Pending p, Response response) {
    unanswered.remove(p.requestNo);
    if (p.then != null) {
      p.then.accept(response);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Reads and syncs

  /** Nothing in flight: no write, read or Sync (so a read's floor is exactly what was seen). */
  boolean idle() {
    return unanswered.isEmpty() && reading == null && syncing == 0;
  }

  private void readKey() {
    String path = random.nextInt(KEYS + 1) == KEYS ? LockChecker.FENCED : key(random.nextInt(KEYS));
    // One read in three asks to be linearizable: it must see every write acknowledged to anyone.
    boolean linearizable = random.nextInt(3) == 0;
    read(random.nextBoolean()
        ? Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path).setLinearizable(linearizable))
        : Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath(path).setLinearizable(linearizable)),
        null);
  }

  /**
   * A plain read on the current stream, served by the member's session pipeline from its state;
   * the answer is checked, raises what the client has seen, and is passed to {@code then} (if not
   * null). Only when {@link #idle}.
   */
  void read(Request.Builder request, Consumer<Response> then) {
    Request built = request.setRequestNo(nextRequestNo()).build();
    Read r = new Read(built, seenZxid,
        ReadConsistency.linearizable(built) ? history.maxAckedZxid() : -1, sim.nowNanos(), conn, then);
    reading = r;
    request(r.request);
  }

  private void readAnswered(Read r, Response answer) {
    reading = null;
    if (r.request.hasGetData() && answer.hasGetData() && answer.getGetData().hasStat()) {
      knownVersion.put(r.request.getGetData().getPath(), answer.getGetData().getStat().getVersion());
    }
    if (r.ackedFloorZxid >= 0) {
      if (answer.hasError() && answer.getError().getReason() != ErrorReason.NO_NODE) {
        return; // the barrier gave up (no leader in time): a refused read claims nothing
      }
      history.linearizableRead(sessionId, r.ackedFloorZxid, r.invokeNanos, sim.nowNanos(), r.request, answer);
    }
    history.read(sessionId, r.floorZxid, r.request, answer);
    seen(answer.getZxid());
    if (r.then != null) {
      r.then.accept(answer);
    }
  }

  /** A Sync on the current stream; {@code then} (if not null) is told its zxid. */
  void sync(LongConsumer then) {
    long no = nextRequestNo();
    syncs.put(no, new Sync(history.maxAckedZxid(), sim.nowNanos(), conn, then));
    syncing = no;
    syncSentNanos = sim.nowNanos();
    request(Request.newBuilder().setRequestNo(no).setSync(SyncRequest.getDefaultInstance()).build());
  }

  private void synced(long no, Sync s, Response response) {
    if (!response.hasError()) {
      history.synced(s.floorZxid, response.getZxid(), s.invokeNanos, sim.nowNanos());
    }
    if (syncing != no || s.on != conn) {
      return; // given up on, or on a stream this client left
    }
    syncing = 0;
    if (!response.hasError()) {
      seen(response.getZxid());
      if (s.then != null) {
        s.then.accept(response.getZxid());
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Watches (writers)

  /**
   * On a stream just opened or resumed, a writer registers a persistent watch on every key, from
   * the last change each delivered (the server replays what came after), as the SDK re-registers
   * its watches after a resume.
   */
  private void watchKeys(Conn on) {
    if (lock != null) {
      return;
    }
    for (int k = 0; k < KEYS; k++) {
      long no = nextRequestNo();
      on.watchRequests.put(no, k);
      request(Request.newBuilder().setRequestNo(no).setAddWatch(AddWatchRequest.newBuilder()
          .setPath(key(k)).setKind(WatchKind.WATCH_PERSISTENT).setIncludeData(true)
          .setStartZxid(Math.max(0, watchedThrough[k]))).build());
    }
  }

  private void watchRegistered(Conn on, int k, Response response) {
    if (on != conn) {
      return;
    }
    if (response.hasError()) {
      lastRefusal = response.getError().getReason() + " registering the watch on " + key(k) + ": "
          + response.getError().getMessage();
      failOver(); // registered again, from where it was, on the next stream
      return;
    }
    seen(response.getZxid());
    on.watching[k] = true;
    if (watchedThrough[k] < 0) {
      // A first registration, or one after RESYNC_NEEDED: every change after this is delivered.
      watchedThrough[k] = response.getAddWatch().getZxid();
    }
  }

  private void event(WatchEvent event) {
    if (!isKey(event.getPath())) {
      throw new IllegalStateException("client " + id + " got an event for " + event.getPath()
          + ", which it never watched");
    }
    int k = event.getPath().charAt(2) - '0';
    seen(event.getZxid());
    if (event.getType() == EventType.RESYNC_NEEDED) {
      // The member no longer holds the changes since the last one delivered: the SDK tells the
      // application to read again, and the watch goes on from the registration's answer.
      resyncs++;
      watchedThrough[k] = -1;
      return;
    }
    if (watchedThrough[k] < 0) {
      history.fail("client " + id + "'s watch on " + event.getPath() + " delivered " + event.getType()
          + " at zxid " + event.getZxid() + " before its registration was answered, with nothing to replay");
      return;
    }
    history.watchEvent(id, watchedThrough[k], event);
    watchedThrough[k] = event.getZxid();
  }

  // -----------------------------------------------------------------------------------------------
  // For the lock recipe

  long sessionId() {
    return sessionId;
  }

  long sessionTimeoutNanos() {
    return sessionTimeoutMs * MS;
  }

  long confirmedUntilNanos() {
    return confirmedUntilNanos;
  }
}
