package dev.synod.server.sim;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.Stat;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.SessionRecord;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the simulated cluster decided and what its clients were told, and the guarantees that
 * must hold between the two. A violation is remembered (the first one) and reported by
 * {@link #violation}, which the simulator asks after every event.
 *
 * <p>Checked: agreement (every member applies the same Txn at each zxid); decided time never
 * decreases (a member's decided time is the latest stamp so far, whatever order stamps came in); every acknowledged write is the decided Txn at its zxid; linearizability of writes
 * and Syncs against real time (an operation that starts after a write was acknowledged is
 * ordered after it: since zxids totally order the decided history, that is "its zxid is higher",
 * and a Sync's is at least as high); a retried request number gets the same answer every time
 * (applied once); a set of a plain key, compare-and-set included, is answered OK exactly when
 * this history's own count of the key's versions says it must succeed; session FIFO (a session's acknowledged writes take zxids in request-number
 * order); a write is never reported lost (REQUEST_TOO_OLD for a number never acknowledged);
 * ephemerals belong to live sessions on every member; a session is said to have ended only where
 * the decided history closed it. Reads (served by one member, not through the log) are
 * sequentially consistent: never older than what the session had seen (so its own writes
 * included), of a state that was decided, showing a value that was written at the zxid it claims
 * and no older than any write to the node acknowledged at or before the read's zxid. The lock
 * recipe's guarantees are checked by {@link LockChecker}, fed from here.
 */
final class History {
  private static final long MS = 1_000_000L;

  /** A request's identity: the session and its request number. */
  private record Key(long sessionId, long requestNo) {}

  /** The decided Txns, by zxid - 1. */
  private final List<Txn> decided = new ArrayList<>();
  /** The time each decided Txn takes effect at, by zxid - 1: never decreasing, even if stamps do. */
  private final List<Long> effectiveTimeMs = new ArrayList<>();
  private final Map<Key, Long> ackedZxid = new TreeMap<>((a, b) -> a.sessionId != b.sessionId
      ? Long.compare(a.sessionId, b.sessionId) : Long.compare(a.requestNo, b.requestNo));
  /** Per session: request number -> zxid of its acknowledged writes. */
  private final Map<Long, TreeMap<Long, Long>> sessionWrites = new TreeMap<>();
  /** A session as the decided history has it (see {@link #sessionsApply}). */
  private static final class DecidedSession {
    final long timeoutMs;
    /** The zxid that closed it; 0 while open. */
    long closedAt;
    long lastRequestNo;
    /** Until when the servers confirmed it to its client (simulated time). */
    long confirmedUntilNanos;

    DecidedSession(long timeoutMs) {
      this.timeoutMs = timeoutMs;
    }
  }

  private final Map<Long, DecidedSession> sessions = new TreeMap<>();
  /** Per path: the zxids of acknowledged writes that set it (creates and set_data, in multis too). */
  private final Map<String, TreeSet<Long>> writesTo = new TreeMap<>();
  private final LockChecker locks = new LockChecker(this::fail);
  /**
   * Per plain key (/k*, which clients create and set but never delete): the value each change
   * that took effect set, by zxid. What a watch on the key must deliver, once each, in order.
   */
  private final Map<String, TreeMap<Long, ByteString>> keyChanges = new TreeMap<>();
  /** Per plain key: its version now (0 at its creation, one more per set that took effect). */
  private final Map<String, Integer> keyVersions = new TreeMap<>();
  /**
   * Per decided set of a plain key (by zxid): whether it must succeed, by this history's own count
   * of the key's versions (a compare-and-set naming another version, or a set of a key not yet
   * created, must fail). Checked against what the client was answered.
   */
  private final Map<Long, Boolean> setOutcomes = new TreeMap<>();
  private long watchEvents;
  private long reads;
  /** Every acknowledged write and Sync, for the linearizability check at the end. */
  private final List<Linearizability.Op> ops = new ArrayList<>();
  private long maxAckedZxid;
  private long acked;
  private long retried;
  private String violation;

  // -----------------------------------------------------------------------------------------------
  // Recording

  /** A member applied {@code txn} at simulated time {@code nowNanos}; returns a violation or null. */
  String applied(int member, Txn txn, long nowNanos) {
    long zxid = txn.getZxid();
    if (zxid == decided.size() + 1) {
      long before = effectiveTimeMs.isEmpty() ? 0 : effectiveTimeMs.get(effectiveTimeMs.size() - 1);
      effectiveTimeMs.add(Math.max(before, txn.getTimeMs()));
      decided.add(txn);
      boolean takesEffect = sessionsApply(txn, nowNanos);
      locks.decided(txn, takesEffect);
      if (takesEffect) {
        keyChanged(txn);
      }
    } else if (zxid <= decided.size()) {
      if (!decided.get((int) zxid - 1).equals(txn)) {
        fail("members disagree at zxid " + zxid + ": member " + member + " applied "
            + brief(txn) + " where " + brief(decided.get((int) zxid - 1)) + " was applied before");
      }
    } else {
      fail("member " + member + " applied zxid " + zxid + " but only " + decided.size() + " were decided");
    }
    return violation;
  }

  /**
   * A client was answered for write {@code requestNo} of {@code sessionId}, first sent when the
   * highest acknowledged zxid was {@code floorZxid}.
   */
  void answered(long sessionId, long requestNo, long floorZxid, long invokeNanos, long nowNanos,
      Response response, int attempts) {
    long zxid = response.getZxid();
    if (zxid == 0) {
      return; // refused before the log: nothing to check
    }
    if (zxid > decided.size()) {
      fail("session " + sessionId + " request " + requestNo + " was answered with zxid " + zxid
          + ", which was never decided");
      return;
    }
    Txn t = decided.get((int) zxid - 1);
    if (t.getSessionId() != sessionId || t.getRequestNo() != requestNo) {
      fail("session " + sessionId + " request " + requestNo + " was answered with zxid " + zxid
          + ", which decided " + brief(t));
      return;
    }
    if (zxid <= floorZxid) {
      fail("not linearizable: session " + sessionId + " request " + requestNo + " started after zxid "
          + floorZxid + " was acknowledged but took effect at zxid " + zxid);
      return;
    }
    if (response.hasError() && response.getError().getReason() == ErrorReason.SESSION_EXPIRED) {
      ended(sessionId, zxid - 1, "a write refused at zxid " + zxid);
    }
    if (!tookEffect(response)) {
      return; // decided, but refused at apply (the session had ended, ...): nothing took effect
    }
    locks.answered(sessionId, t, response);
    Boolean mustSucceed = setOutcomes.get(zxid);
    if (mustSucceed != null && mustSucceed == response.hasError()) {
      fail("session " + sessionId + " request " + requestNo + " (" + brief(t) + ", expected version "
          + (t.getSetData().hasVersion() ? t.getSetData().getVersion() : -1) + ") at zxid " + zxid
          + " was answered " + (response.hasError() ? response.getError().getReason() : "OK")
          + ", but by the decided history it must " + (mustSucceed ? "succeed" : "fail"));
      return;
    }
    Key key = new Key(sessionId, requestNo);
    Long before = ackedZxid.putIfAbsent(key, zxid);
    if (before != null && before != zxid) {
      fail("session " + sessionId + " request " + requestNo + " took effect twice: zxid " + before
          + " and " + zxid);
      return;
    }
    if (before == null) {
      ops.add(new Linearizability.Op("session " + sessionId + " request " + requestNo, invokeNanos,
          nowNanos, zxid, true));
      acked++;
      if (attempts > 1) {
        retried++;
      }
      if (!response.hasError()) {
        for (String path : pathsWritten(t)) {
          writesTo.computeIfAbsent(path, p -> new TreeSet<>()).add(zxid);
        }
      }
      TreeMap<Long, Long> writes = sessionWrites.computeIfAbsent(sessionId, s -> new TreeMap<>());
      writes.put(requestNo, zxid);
      var lower = writes.lowerEntry(requestNo);
      var higher = writes.higherEntry(requestNo);
      if ((lower != null && lower.getValue() > zxid) || (higher != null && higher.getValue() < zxid)) {
        fail("session FIFO broken: session " + sessionId + " request " + requestNo + " took effect at"
            + " zxid " + zxid + ", out of order with its neighbours " + lower + " / " + higher);
      }
    }
    maxAckedZxid = Math.max(maxAckedZxid, zxid);
  }

  /** Whether the answer reports the write's own effect (a success, or a decided op failure). */
  static boolean tookEffect(Response response) {
    if (!response.hasError()) {
      return true;
    }
    return switch (response.getError().getReason()) {
      case SESSION_EXPIRED, SESSION_SECRET_MISMATCH, REQUEST_TOO_OLD, LEADER_UNAVAILABLE,
          SHUTTING_DOWN, OVERLOADED, STORAGE_FAILURE, PROTOCOL_VIOLATION, OUT_OF_ORDER,
          REQUEST_NO_REUSED -> false;
      default -> true;
    };
  }

  /** Records what a decided Txn that takes effect does to the plain keys (/k*). */
  private void keyChanged(Txn t) {
    switch (t.getOpCase()) {
      case CREATE -> {
        String path = t.getCreate().getPath();
        if (SimClient.isKey(path) && !keyChanges.containsKey(path)) {
          keyChanges.computeIfAbsent(path, p -> new TreeMap<>()).put(t.getZxid(), t.getCreate().getData());
          keyVersions.put(path, 0);
        }
      }
      case SET_DATA -> {
        String path = t.getSetData().getPath();
        if (!SimClient.isKey(path)) {
          return;
        }
        TreeMap<Long, ByteString> changes = keyChanges.get(path);
        if (changes == null) {
          return; // a set of a key not created yet fails (NO_NODE): it changes nothing
        }
        int version = keyVersions.get(path);
        int expected = t.getSetData().hasVersion() ? t.getSetData().getVersion() : -1;
        boolean succeeds = expected == -1 || expected == version; // else BAD_VERSION
        setOutcomes.put(t.getZxid(), succeeds);
        if (succeeds) {
          changes.put(t.getZxid(), t.getSetData().getData());
          keyVersions.put(path, version + 1);
        }
      }
      case DELETE, MULTI, SET_ACL -> {
        // The clients never delete a key, set its ACL or touch one in a multi.
      }
      default -> { }
    }
  }

  /**
   * The first change of plain key {@code path} after {@code zxid} (its zxid and value), or null:
   * what a watch on it that has delivered everything through {@code zxid} must deliver next.
   */
  Map.Entry<Long, ByteString> keyChangeAfter(String path, long zxid) {
    TreeMap<Long, ByteString> changes = keyChanges.get(path);
    return changes == null ? null : changes.higherEntry(zxid);
  }

  /**
   * A watch on plain key {@code path} that had delivered every change through {@code throughZxid}
   * delivered {@code event}: it must be the key's next change, with its value.
   */
  void watchEvent(int client, long throughZxid, WatchEvent event) {
    watchEvents++;
    Map.Entry<Long, ByteString> next = keyChangeAfter(event.getPath(), throughZxid);
    if (next == null || next.getKey() != event.getZxid()) {
      fail("client " + client + "'s watch on " + event.getPath() + " delivered " + event.getType()
          + " at zxid " + event.getZxid() + " after zxid " + throughZxid + ", but the next change"
          + " of " + event.getPath() + " is " + (next == null ? "none yet" : "at zxid " + next.getKey()));
    } else if (!event.getHasData() || !event.getData().equals(next.getValue())) {
      fail("client " + client + "'s watch on " + event.getPath() + " delivered the change at zxid "
          + event.getZxid() + " with data '" + event.getData().toStringUtf8() + "', but it set '"
          + next.getValue().toStringUtf8() + "'");
    }
  }

  long watchEvents() {
    return watchEvents;
  }

  /** A write was reported as never to be applied though it never was acknowledged. */
  void lost(long sessionId, long requestNo, String message) {
    if (!ackedZxid.containsKey(new Key(sessionId, requestNo))) {
      fail("session " + sessionId + " request " + requestNo + " was lost: " + message);
    }
  }

  /** A Sync started when {@code floorZxid} was the highest acknowledged zxid returned {@code zxid}. */
  void synced(long floorZxid, long zxid, long invokeNanos, long nowNanos) {
    ops.add(new Linearizability.Op("a Sync", invokeNanos, nowNanos, zxid, false));
    maxAckedZxid = Math.max(maxAckedZxid, zxid);
    if (zxid < floorZxid) {
      fail("not linearizable: a Sync started after zxid " + floorZxid + " was acknowledged returned"
          + " zxid " + zxid);
    }
  }

  /**
   * Applies a newly decided Txn to the model of sessions and says whether it takes effect, by the
   * state machine's rules: a client write of an open session takes effect if its request number
   * is above the session's last (dedup, without the window's limit) and the write it follows
   * (after_request_no) has applied (the FIFO chain); the first close of a session does. A session
   * is never expired before the time the servers confirmed it to its client ({@link #confirmed}),
   * within what the members' clock rates may take off that ({@link #driftToleranceNanos}).
   */
  private boolean sessionsApply(Txn t, long nowNanos) {
    DecidedSession s = sessions.get(t.getSessionId());
    return switch (t.getOpCase()) {
      case CREATE_SESSION -> {
        sessions.put(t.getSessionId(), new DecidedSession(t.getCreateSession().getTimeoutMs()));
        yield true;
      }
      case CLOSE_SESSION -> {
        if (s == null || s.closedAt != 0) {
          yield false;
        }
        s.closedAt = t.getZxid();
        long early = s.confirmedUntilNanos - nowNanos;
        if (t.getCloseSession().getExpired() && early > driftToleranceNanos(s.timeoutMs * MS)) {
          fail("session " + t.getSessionId() + " expired at zxid " + t.getZxid() + " " + early / MS
              + " ms before the time the servers had confirmed it to its client");
        }
        yield true;
      }
      case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA -> {
        if (s == null || s.closedAt != 0
            || Long.compareUnsigned(t.getRequestNo(), s.lastRequestNo) <= 0
            || Long.compareUnsigned(t.getAfterRequestNo(), s.lastRequestNo) > 0) {
          yield false;
        }
        s.lastRequestNo = t.getRequestNo();
        yield true;
      }
      case EXPIRE_TTL, NOOP, SET_MEMBERS, OP_NOT_SET -> true;
    };
  }

  /** A server confirmed session {@code sessionId} to its client until {@code untilNanos}. */
  void confirmed(long sessionId, long untilNanos) {
    DecidedSession s = sessions.get(sessionId);
    if (s != null) {
      s.confirmedUntilNanos = Math.max(s.confirmedUntilNanos, untilNanos);
    }
  }

  /**
   * How much earlier than confirmed a session of {@code timeoutNanos} may end in simulated time:
   * the member that confirmed it and the leader that expires it each measure up to a timeout on
   * clocks whose rates are off by up to {@link ServerSimulator#CLOCK_DRIFT_PPM_MAX}, and the time
   * left is told in whole milliseconds.
   */
  static long driftToleranceNanos(long timeoutNanos) {
    return 2 * timeoutNanos / 1_000_000 * ServerSimulator.CLOCK_DRIFT_PPM_MAX + MS;
  }

  /**
   * A member told session {@code sessionId} it has ended (expired or closed), from its state at
   * {@code memberZxid}: the decided history must have closed it at or before that zxid.
   */
  void ended(long sessionId, long memberZxid, String how) {
    DecidedSession s = sessions.get(sessionId);
    if (s == null || s.closedAt == 0 || s.closedAt > memberZxid) {
      fail("session " + sessionId + " was told it had ended (" + how + ", the member at zxid "
          + memberZxid + ") but the decided history " + (s == null ? "never created it"
          : s.closedAt == 0 ? "has it open" : "closed it only at zxid " + s.closedAt));
    }
  }

  /**
   * A read of {@code request} (of a node no client deletes: the simulated clients never delete
   * /k*, {@link LockChecker#FENCED} or {@link LockChecker#LOCK}) was served to a session that had
   * seen zxid {@code floorZxid} when it sent it.
   */
  /**
   * A read made with the linearizable flag: besides what {@link #read} checks, it must reflect
   * every write (and Sync) acknowledged to anyone before it was sent, and it takes its place in
   * the real-time order check beside the writes and Syncs.
   */
  void linearizableRead(long sessionId, long ackedFloorZxid, long invokeNanos, long nowNanos,
      Request request, Response response) {
    long zxid = response.getZxid();
    if (zxid < ackedFloorZxid) {
      fail("not linearizable: session " + sessionId + "'s linearizable " + request.getOpCase()
          + " sent after zxid " + ackedFloorZxid + " was acknowledged read the state at zxid " + zxid);
      return;
    }
    ops.add(new Linearizability.Op("a linearizable " + request.getOpCase(), invokeNanos, nowNanos, zxid, false));
    maxAckedZxid = Math.max(maxAckedZxid, zxid);
  }

  void read(long sessionId, long floorZxid, Request request, Response response) {
    reads++;
    long zxid = response.getZxid();
    String what = "session " + sessionId + " read " + request.getOpCase() + " at zxid " + zxid;
    if (zxid < floorZxid) {
      fail("not sequentially consistent: " + what + " after it had seen zxid " + floorZxid);
      return;
    }
    if (zxid > decided.size()) {
      fail(what + ", a state never decided (" + decided.size() + " were)");
      return;
    }
    boolean absent = response.hasError() && response.getError().getReason() == ErrorReason.NO_NODE;
    if (response.hasError() && !absent) {
      fail(what + " was refused: " + response.getError());
      return;
    }
    switch (request.getOpCase()) {
      case GET_DATA -> readNode(what, request.getGetData().getPath(), zxid,
          absent ? null : response.getGetData().getStat(),
          absent ? null : response.getGetData().getData());
      case EXISTS -> readNode(what, request.getExists().getPath(), zxid,
          response.getExists().getExists() ? response.getExists().getStat() : null, null);
      case GET_CHILDREN -> {
        if (request.getGetChildren().getPath().equals(LockChecker.LOCK) && !absent) {
          locks.listed(zxid, response.getGetChildren().getChildrenList());
        }
      }
      case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SYNC, STATUS, GET_ACL, ADD_WATCH, REMOVE_WATCH,
          OP_NOT_SET -> throw new IllegalArgumentException("not a read the clients make: " + request);
    }
  }

  /** A node read at {@code zxid}: {@code stat} null if absent; {@code data} null if not read. */
  private void readNode(String what, String path, long zxid, Stat stat, ByteString data) {
    TreeSet<Long> writes = writesTo.get(path);
    Long newest = writes == null ? null : writes.floor(zxid);
    if (stat == null) {
      if (newest != null) {
        fail(what + ": " + path + " does not exist, but a write to it was acknowledged at zxid "
            + newest);
      }
      return;
    }
    long mzxid = stat.getMzxid();
    if (mzxid == 0 || mzxid > zxid) {
      fail(what + ": " + path + " was last modified at zxid " + mzxid);
      return;
    }
    ByteString written = dataWritten(decided.get((int) mzxid - 1), path);
    if (written == null) {
      fail(what + ": " + path + " was last modified at zxid " + mzxid + ", which decided "
          + brief(decided.get((int) mzxid - 1)));
    } else if (data != null && !written.equals(data)) {
      fail(what + ": " + path + " holds '" + data.toStringUtf8() + "', not '"
          + written.toStringUtf8() + "' written at zxid " + mzxid);
    } else if (newest != null && newest > mzxid) {
      fail("stale read: " + what + ": " + path + " as of zxid " + mzxid + ", but a write to it was"
          + " acknowledged at zxid " + newest);
    }
  }

  /** The data {@code t} writes to {@code path}, or null if it writes none there. */
  private static ByteString dataWritten(Txn t, String path) {
    ByteString data = null;
    for (Op op : writes(t)) {
      CreateRequest create = op.getCreate();
      if (op.hasCreate() && !create.getSequential() && create.getPath().equals(path)) {
        data = create.getData();
      } else if (op.hasSetData() && op.getSetData().getPath().equals(path)) {
        data = op.getSetData().getData();
      }
    }
    return data;
  }

  /** The paths {@code t} creates (not sequentially) or sets. */
  private static List<String> pathsWritten(Txn t) {
    List<String> paths = new ArrayList<>();
    for (Op op : writes(t)) {
      if (op.hasCreate() && !op.getCreate().getSequential()) {
        paths.add(op.getCreate().getPath());
      } else if (op.hasSetData()) {
        paths.add(op.getSetData().getPath());
      }
    }
    return paths;
  }

  /** A client write's ops (one, or a multi's). */
  private static List<Op> writes(Txn t) {
    return switch (t.getOpCase()) {
      case CREATE -> List.of(Op.newBuilder().setCreate(t.getCreate()).build());
      case SET_DATA -> List.of(Op.newBuilder().setSetData(t.getSetData()).build());
      case DELETE -> List.of(Op.newBuilder().setDelete(t.getDelete()).build());
      case MULTI -> t.getMulti().getOpsList();
      case SET_ACL, SET_QUOTA, CREATE_SESSION, CLOSE_SESSION, EXPIRE_TTL, NOOP, SET_MEMBERS, OP_NOT_SET -> List.of();
    };
  }

  /**
   * Every ephemeral node on a member belongs to a session that member holds; the member's decided
   * time is the effective time of the last Txn it applied (so it never went back).
   */
  String checkState(int member, StateMachine state) {
    long last = state.lastZxid();
    if (last > 0 && last <= effectiveTimeMs.size()
        && state.lastTimeMs() != effectiveTimeMs.get((int) last - 1)) {
      fail("member " + member + " holds decided time " + state.lastTimeMs() + " ms at zxid " + last
          + ", not " + effectiveTimeMs.get((int) last - 1) + " ms (the latest of all stamps so far)");
    }
    Snapshot s = state.snapshot();
    Set<Long> live = new HashSet<>();
    for (SessionRecord r : s.sessions()) {
      live.add(r.getSessionId());
    }
    s.forEachNode((path, record) -> {
      long owner = record.getStat().getEphemeralOwner();
      if (owner != 0 && !live.contains(owner)) {
        fail("member " + member + " holds ephemeral " + path + " of session " + owner
            + ", which it does not hold");
      }
    });
    return violation;
  }

  /** Records a violated guarantee (the first one is reported). */
  void fail(String what) {
    if (violation == null) {
      violation = what;
    }
  }

  private static String brief(Txn t) {
    return "[session " + t.getSessionId() + " request " + t.getRequestNo() + " " + t.getOpCase()
        + " time " + t.getTimeMs() + "]";
  }

  // -----------------------------------------------------------------------------------------------
  // Reading

  String violation() {
    return violation;
  }

  /** The checks that need the whole history: linearizability by the one rule. */
  String finalViolation() {
    if (violation == null) {
      Linearizability.check(ops).ifPresent(this::fail);
    }
    return violation;
  }

  long maxAckedZxid() {
    return maxAckedZxid;
  }

  long decidedCount() {
    return decided.size();
  }

  long acked() {
    return acked;
  }

  long retried() {
    return retried;
  }

  long reads() {
    return reads;
  }

  LockChecker locks() {
    return locks;
  }
}
