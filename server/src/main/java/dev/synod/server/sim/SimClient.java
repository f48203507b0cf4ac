package dev.synod.server.sim;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A client of the simulated cluster that behaves like the SDK: it opens a session on one member,
 * heartbeats it, writes with increasing request numbers (a few in flight), and when its member
 * goes quiet it fails over and resends its unanswered writes, in order, with the same numbers.
 * Everything it is told goes to {@link History}.
 */
final class SimClient {
  /** A write sent and not answered yet. */
  private static final class Pending {
    final long requestNo;
    final Txn.Builder txn;
    final long floorZxid;
    final long invokeNanos;
    int attempts;

    Pending(long requestNo, Txn.Builder txn, long floorZxid, long invokeNanos) {
      this.requestNo = requestNo;
      this.txn = txn;
      this.floorZxid = floorZxid;
      this.invokeNanos = invokeNanos;
    }
  }

  private static final long MS = 1_000_000L;
  /** Writes in flight at once. */
  private static final int IN_FLIGHT_MAX = 3;
  /** Silence after which the client gives up on its member and resends elsewhere. */
  private static final long ANSWER_TIMEOUT_NANOS = 1_500 * MS;

  private final int id;
  private final ServerSimulator sim;
  private final History history;
  private final SplittableRandom random;
  private final TreeMap<Long, Pending> unanswered = new TreeMap<>();
  private int member;
  private long sessionId;
  private long sessionTimeoutMs;
  private boolean opening;
  private long openSentNanos;
  private long lastSentNanos;
  private long lastHeartbeatNanos;
  private long nextRequestNo = 1;
  /** The session's previous write: each write names it (after_request_no), as the SDK does. */
  private long lastWriteRequestNo;
  private long ephemerals;
  /** The last answer that asked for a resend, for failure reports. */
  private String lastRefusal = "none";

  SimClient(int id, ServerSimulator sim, History history, SplittableRandom random) {
    this.id = id;
    this.sim = sim;
    this.history = history;
    this.random = random;
    this.member = 1 + random.nextInt(sim.replicas());
  }

  int id() {
    return id;
  }

  /** What the client waits for, and what its member knows of its session (for failure reports). */
  String describeWait() {
    SimServer s = sim.server(member);
    String view = !s.isUp() ? "member down"
        : "member lastZxid " + s.state().lastZxid() + ", session " + (s.state().session(sessionId).isPresent()
            ? "alive" : "unknown") + ", leader " + s.isLeader();
    return "client " + id + " (session " + sessionId + ", member " + member + ": " + view
        + ") waits for requests " + unanswered.keySet() + " (attempts "
        + unanswered.values().stream().map(p -> p.attempts).toList() + ", last write " + lastWriteRequestNo
        + "; last refusal " + lastRefusal + ")";
  }

  /** Whether a write of the current session is still unanswered. */
  boolean waiting() {
    return !unanswered.isEmpty();
  }

  /** One step of the client's life; schedules the next. */
  void act() {
    long now = sim.nowNanos();
    if (sessionId == 0) {
      if (sim.writing() && (!opening || now - openSentNanos > ANSWER_TIMEOUT_NANOS)) {
        open();
      }
    } else {
      heartbeat(now);
      if (sessionId == 0) {
        // the heartbeat found the session ended: open a new one next time
      } else if (!unanswered.isEmpty() && now - lastSentNanos > ANSWER_TIMEOUT_NANOS) {
        failOver();
        resendAll();
      } else if (sim.writing() && unanswered.size() < IN_FLIGHT_MAX && random.nextInt(4) > 0) {
        write();
      } else if (sim.writing() && random.nextInt(8) == 0) {
        sync();
      }
    }
    sim.at((5 + random.nextInt(60)) * MS, this::act);
  }

  private void open() {
    failOverIfDown();
    opening = true;
    openSentNanos = sim.nowNanos();
    long timeoutMs = 1_000 + random.nextInt(2_000);
    Txn.Builder txn = Txn.newBuilder().setCreateSession(CreateSessionTxn.newBuilder().setTimeoutMs(timeoutMs));
    sim.server(member).submit(txn, (applied, response) -> {
      if (!opening || response.hasError()) {
        if (opening && response.hasError()) {
          failOver();
          opening = false;
        }
        return; // a late answer to an open we gave up on: that session will expire
      }
      opening = false;
      sessionId = applied.getSessionId();
      sessionTimeoutMs = timeoutMs;
      lastHeartbeatNanos = sim.nowNanos();
      unanswered.clear();
    });
  }

  private void heartbeat(long now) {
    if (now - lastHeartbeatNanos < sessionTimeoutMs * MS / 4) {
      return;
    }
    SimServer s = sim.server(member);
    if (s.isUp() && s.tracker().touch(sessionId)) {
      lastHeartbeatNanos = now;
    } else if (s.isUp() && s.state().session(sessionId).isEmpty() && s.state().lastZxid() >= sessionId) {
      sessionEnded();
    } else {
      failOver();
    }
  }

  private void write() {
    long requestNo = nextRequestNo++;
    Txn.Builder txn = Txn.newBuilder().setSessionId(sessionId).setRequestNo(requestNo)
        .setAfterRequestNo(lastWriteRequestNo);
    lastWriteRequestNo = requestNo;
    int kind = random.nextInt(10);
    ByteString value = ByteString.copyFromUtf8("c" + id + "-r" + requestNo);
    if (kind < 5) {
      String path = "/k" + random.nextInt(4);
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
    Pending p = new Pending(requestNo, txn, history.maxAckedZxid(), sim.nowNanos());
    unanswered.put(requestNo, p);
    send(p);
  }

  private void send(Pending p) {
    p.attempts++;
    lastSentNanos = sim.nowNanos();
    long session = sessionId;
    sim.server(member).submit(p.txn.clone(), (applied, response) -> answered(session, p, response));
  }

  private void resendAll() {
    for (Pending p : new ArrayList<>(unanswered.values())) {
      send(p);
    }
  }

  private void answered(long session, Pending p, Response response) {
    history.answered(session, p.requestNo, p.floorZxid, p.invokeNanos, sim.nowNanos(), response, p.attempts);
    if (session != sessionId) {
      return; // an answer for a session this client already left
    }
    if (!response.hasError()) {
      unanswered.remove(p.requestNo);
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
      default -> unanswered.remove(p.requestNo); // decided: NO_NODE, NODE_EXISTS, ...
    }
  }

  private void sync() {
    long floor = history.maxAckedZxid();
    long invoked = sim.nowNanos();
    sim.server(member).barrier((zxid, error) -> {
      if (error == null) {
        history.synced(floor, zxid, invoked, sim.nowNanos());
      }
    });
  }

  private void sessionEnded() {
    sessionId = 0;
    lastWriteRequestNo = 0;
    opening = false;
    unanswered.clear();
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
    lastHeartbeatNanos = 0;
  }
}
