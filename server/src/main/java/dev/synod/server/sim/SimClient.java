package dev.synod.server.sim;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.server.pipeline.SessionAccess;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A client of the simulated cluster that behaves like the SDK: it opens a session on one member
 * and keeps a session stream to one member at a time, heartbeats on it (trusting only what the
 * member confirms, for the time it confirms), writes with increasing request numbers, each naming
 * its predecessor (a few in flight), reads from its member (plain reads, not through the log) and
 * syncs. When its member goes quiet or goes down it fails over: it resumes the session on another
 * member (which refuses, as the server does, if it is behind the highest zxid the client has seen)
 * and resends its unanswered writes there, in order, with the same numbers; answers still coming
 * on a stream it left are not taken. A client is either a writer of plain keys or a lock
 * contender ({@link SimLockRecipe}). Everything it is told goes to {@link History}.
 */
final class SimClient {
  /** A write sent and not answered yet. */
  private static final class Pending {
    final long requestNo;
    final Txn.Builder txn;
    final long floorZxid;
    final long invokeNanos;
    /** Told the decided answer; null when nobody waits for it. */
    final Consumer<Response> then;
    int attempts;
    /** The stream it was last sent on. */
    int sentOn;

    Pending(long requestNo, Txn.Builder txn, long floorZxid, long invokeNanos, Consumer<Response> then) {
      this.requestNo = requestNo;
      this.txn = txn;
      this.floorZxid = floorZxid;
      this.invokeNanos = invokeNanos;
      this.then = then;
    }
  }

  /**
   * The session stream: to which member, to which life of it (a restart makes a new state
   * machine, and the stream is gone with the process), and its number among this client's streams.
   */
  private record Stream(int member, StateMachine state, int number) {}

  /** A read in flight; while it is, nothing else is sent, so its floor is exactly what was seen. */
  private record Read(Request request, long floorZxid, Stream on, Consumer<Response> then) {}

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
  private Stream stream;
  private int streams;
  private long sessionId;
  private long secret;
  private long sessionTimeoutMs;
  private boolean opening;
  private long openSentNanos;
  /** The life (state machine) of the member the open went to; null if it was down. */
  private StateMachine openedOn;
  private long lastSentNanos;
  private long lastHeartbeatNanos;
  /** When the current stream was made (a resumed session gets a while to be confirmed there). */
  private long streamNanos;
  /**
   * Until when the servers confirmed the session (the SDK's confirmedTimeLeft): the time left of
   * the last confirmed heartbeat reply, counted from when the heartbeat was sent.
   */
  private long confirmedUntilNanos;
  /** The highest zxid this client has seen (answers, reads, syncs): the SDK's lastZxidSeen. */
  private long seenZxid;
  private long nextRequestNo = 1;
  /** The session's previous write: each write names it (after_request_no), as the SDK does. */
  private long lastWriteRequestNo;
  private long ephemerals;
  private Read reading;
  /** The Sync in flight (its number), 0 if none. */
  private int syncing;
  private int syncs;
  private long syncSentNanos;
  private long resumesRefused;
  /** The last answer that asked for a resend, for failure reports. */
  private String lastRefusal = "none";

  SimClient(int id, boolean contender, ServerSimulator sim, History history, SplittableRandom random) {
    this.id = id;
    this.sim = sim;
    this.history = history;
    this.random = random;
    this.member = 1 + random.nextInt(sim.replicas());
    this.lock = contender ? new SimLockRecipe(this, sim, history.locks(), random) : null;
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
        + (stream == null ? "none" : stream.number + " to member " + stream.member) + ", seen zxid "
        + seenZxid + ") waits for requests " + unanswered.keySet() + " (attempts "
        + unanswered.values().stream().map(p -> p.attempts).toList() + ", last write "
        + lastWriteRequestNo + ", last sent " + (sim.nowNanos() - lastSentNanos) / MS
        + " ms ago; last refusal " + lastRefusal + ")";
  }

  /** Resumes refused because the member was behind what this client had seen. */
  long resumesRefused() {
    return resumesRefused;
  }

  /** One step of the client's life; schedules the next. */
  void act() {
    long now = sim.nowNanos();
    if (sessionId == 0) {
      if (sim.writing() && (!opening || now - openSentNanos > ANSWER_TIMEOUT_NANOS || openerGone())) {
        open();
      }
    } else if (attached(now)) {
      heartbeat(now);
      if (stream != null) { // still on this member, with a session
        resendUnsent();
        if (!unanswered.isEmpty() && now - lastSentNanos > ANSWER_TIMEOUT_NANOS) {
          failOver(); // the next step resumes elsewhere and resends there
        } else {
          if (syncing != 0 && now - syncSentNanos > ANSWER_TIMEOUT_NANOS) {
            syncing = 0; // its member went down: no answer will come
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
    opening = true;
    openSentNanos = sim.nowNanos();
    long timeoutMs = 1_000 + random.nextInt(2_000);
    int to = member;
    long sent = openSentNanos;
    openedOn = sim.server(to).state();
    Txn.Builder txn = Txn.newBuilder().setCreateSession(CreateSessionTxn.newBuilder().setTimeoutMs(timeoutMs));
    sim.server(to).submit(txn, (applied, response) -> {
      if (!opening || response.hasError()) {
        if (opening && response.hasError()) {
          failOver();
          opening = false;
        }
        return; // a late answer to an open we gave up on: that session will expire
      }
      opening = false;
      sessionId = applied.getSessionId();
      secret = applied.getCreateSession().getSecret();
      sessionTimeoutMs = timeoutMs;
      unanswered.clear();
      // The answer comes on the stream that opened it, from a member that applied the creation.
      member = to;
      stream = new Stream(to, sim.server(to).state(), ++streams);
      seen(applied.getZxid());
      streamNanos = sim.nowNanos();
      lastHeartbeatNanos = streamNanos;
      // Created through the log after it was asked for: the leader's full timeout started later.
      confirm(sent + sessionTimeoutNanos());
    });
  }

  /**
   * Whether the member an open was sent to died since (its stream broke): the SDK reconnects at
   * once rather than waiting out the answer timeout.
   */
  private boolean openerGone() {
    SimServer s = sim.server(member);
    return !s.isUp() || s.state() != openedOn;
  }

  /**
   * Whether the client has a stream to a live member, resuming the session on {@link #member}
   * when it has none, by the server's own rule ({@link SessionAccess#resume}): a member behind
   * what the client has seen, or behind the session's creation, refuses (the client tries
   * another); one that no longer holds the session, or is expiring it, says it expired, which
   * the SDK takes as final.
   */
  private boolean attached(long now) {
    if (stream != null) {
      SimServer s = sim.server(stream.member);
      if (s.isUp() && s.state() == stream.state) {
        return true;
      }
      detach(); // the process died (and maybe restarted): its streams are gone
    }
    SimServer s = sim.server(member);
    if (!s.isUp()) {
      failOver();
      return false;
    }
    StateMachine state = s.state();
    try {
      SessionAccess.resume(state, s.tracker(), ResumeSession.newBuilder().setSessionId(sessionId)
          .setSecret(secret).setLastZxidSeen(seenZxid).build());
    } catch (SynodException refused) {
      if (refused.reason() == ErrorReason.SESSION_ZXID_AHEAD) {
        resumesRefused++;
        failOver();
        return false;
      }
      if (state.session(sessionId).isEmpty()) {
        history.ended(sessionId, state.lastZxid(), "a resume on member " + member);
      } // else the member's leader is expiring it: the close is on its way to the log
      sessionEnded();
      return false;
    }
    stream = new Stream(member, state, ++streams);
    streamNanos = now;
    lastHeartbeatNanos = Long.MIN_VALUE / 2; // ask at once whether this member can confirm it
    return true;
  }

  /**
   * Heartbeats as the SDK does: every third of the timeout, and at every step while less than a
   * third stays confirmed; answered as the server's session stream answers (touch, then
   * {@link SessionTracker#confirm} against the member's contact with the leader). A member that
   * cannot confirm, or leaves less than a sixth of the timeout confirmed (past a third of it
   * since the stream was made, for a resumed session to be confirmed), is left for another.
   */
  private void heartbeat(long now) {
    long timeoutNanos = sessionTimeoutNanos();
    long confirmedNanos = confirmedUntilNanos - now;
    if (now - lastHeartbeatNanos < timeoutNanos / 3 && confirmedNanos >= timeoutNanos / 3) {
      return;
    }
    SimServer s = sim.server(stream.member);
    if (s.state().session(sessionId).isEmpty()) {
      // The member applied the session's end and tells the stream (SessionEnded).
      history.ended(sessionId, s.state().lastZxid(), "SessionEnded from member " + stream.member);
      sessionEnded();
      return;
    }
    lastHeartbeatNanos = now;
    s.tracker().touch(sessionId);
    WritePipeline.LeaderContact contact = s.leaderContact();
    SessionTracker.Confirmation reply = s.tracker().confirm(sessionId, contact.leading(), contact.ageNanos());
    if (!reply.confirmed()) {
      failOver(); // it has lost touch with the leader: it cannot vouch for the session
      return;
    }
    if (reply.timeLeftMs() > 0) {
      confirm(now + reply.timeLeftMs() * MS);
    }
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

  /** A request reached the member: as the server's session stream does, it refreshes the session. */
  private void touch(Stream on) {
    sim.server(on.member).tracker().touch(sessionId);
  }

  private void sessionEnded() {
    sessionId = 0;
    lastWriteRequestNo = 0;
    confirmedUntilNanos = 0;
    opening = false;
    unanswered.clear();
    detach();
    if (lock != null) {
      lock.sessionEnded();
    }
  }

  /** Leaves the current stream: whatever it still answers is not taken. */
  private void detach() {
    stream = null;
    reading = null;
    syncing = 0;
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
    long requestNo = nextRequestNo;
    int kind = random.nextInt(10);
    ByteString value = ByteString.copyFromUtf8("c" + id + "-r" + requestNo);
    Txn.Builder txn = Txn.newBuilder();
    if (kind < 5) {
      String path = "/k" + random.nextInt(KEYS);
      if (random.nextBoolean()) {
        txn.setSetData(SetDataRequest.newBuilder().setPath(path).setData(value).setVersion(-1));
      } else {
        txn.setCreate(CreateRequest.newBuilder().setPath(path).setData(value).setKind(NodeKind.PERSISTENT));
      }
    } else if (kind < 8) {
      txn.setCreate(CreateRequest.newBuilder().setPath("/e" + id + "-" + (++ephemerals))
          .setData(value).setKind(NodeKind.EPHEMERAL));
    } else {
      txn.setDelete(DeleteRequest.newBuilder().setPath("/e" + id + "-" + Math.max(1, ephemerals)).setVersion(-1));
    }
    send(txn, null);
  }

  /**
   * Sends a write of the current session on the current stream; {@code then} (if not null) is
   * told its decided answer.
   */
  void send(Txn.Builder op, Consumer<Response> then) {
    long requestNo = nextRequestNo++;
    Txn.Builder txn = op.setSessionId(sessionId).setRequestNo(requestNo)
        .setAfterRequestNo(lastWriteRequestNo);
    lastWriteRequestNo = requestNo;
    Pending p = new Pending(requestNo, txn, history.maxAckedZxid(), sim.nowNanos(), then);
    unanswered.put(requestNo, p);
    send(p);
  }

  private void send(Pending p) {
    p.attempts++;
    p.sentOn = stream.number;
    lastSentNanos = sim.nowNanos();
    long session = sessionId;
    Stream on = stream;
    touch(on);
    sim.server(on.member).submit(p.txn.clone(), (applied, response) -> answered(session, on, p, response));
  }

  /** After a failover: the writes not sent on this stream yet, in order, with the same numbers. */
  private void resendUnsent() {
    for (Pending p : new ArrayList<>(unanswered.values())) {
      if (p.sentOn != stream.number) {
        send(p);
      }
    }
  }

  private void answered(long session, Stream on, Pending p, Response response) {
    history.answered(session, p.requestNo, p.floorZxid, p.invokeNanos, sim.nowNanos(), response, p.attempts);
    if (session != sessionId || on != stream) {
      return; // a session this client left, or a stream it left: the write was resent there
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
        history.lost(session, p.requestNo, response.getError().getMessage());
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
    String path = random.nextInt(KEYS + 1) == KEYS ? LockChecker.FENCED : "/k" + random.nextInt(KEYS);
    read(random.nextBoolean()
        ? Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path))
        : Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath(path)), null);
  }

  /**
   * A plain read on the current stream's member, served from its state as the server serves
   * one (after a network delay each way); the answer is checked, raises what the client has seen,
   * and is passed to {@code then} (if not null). Only when {@link #idle}.
   */
  void read(Request.Builder request, Consumer<Response> then) {
    Read r = new Read(request.setRequestNo(1).build(), seenZxid, stream, then);
    reading = r;
    sim.at(sim.clientDelayNanos(), () -> {
      if (reading != r) {
        return; // the client left the stream meanwhile
      }
      SimServer s = sim.server(r.on.member);
      if (!s.isUp() || s.state() != r.on.state) {
        detach(); // the stream broke under the request
        return;
      }
      touch(r.on);
      s.state().read(sessionId, r.request, answer ->
          sim.at(sim.clientDelayNanos(), () -> readAnswered(r, answer)));
    });
  }

  private void readAnswered(Read r, Response answer) {
    if (reading != r) {
      return; // a stream this client left: not taken
    }
    reading = null;
    history.read(sessionId, r.floorZxid, r.request, answer);
    seen(answer.getZxid());
    if (r.then != null) {
      r.then.accept(answer);
    }
  }

  /** A Sync on the current stream; {@code then} (if not null) is told its zxid. */
  void sync(LongConsumer then) {
    long floor = history.maxAckedZxid();
    long invoked = sim.nowNanos();
    int number = ++syncs;
    syncing = number;
    syncSentNanos = invoked;
    Stream on = stream;
    touch(on);
    sim.server(on.member).barrier((zxid, error) -> {
      if (error == null) {
        history.synced(floor, zxid, invoked, sim.nowNanos());
      }
      if (syncing != number || stream != on) {
        return; // given up on, or on a stream this client left
      }
      syncing = 0;
        if (error == null) {
        seen(zxid);
        if (then != null) {
          then.accept(zxid);
        }
      }
    });
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
