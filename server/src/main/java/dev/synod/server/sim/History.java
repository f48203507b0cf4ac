package dev.synod.server.sim;

import dev.synod.api.v1.Response;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 * (applied once); session FIFO (a session's acknowledged writes take zxids in request-number
 * order); a write is never reported lost (REQUEST_TOO_OLD for a number never acknowledged);
 * ephemerals belong to live sessions on every member.
 */
final class History {
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
  /** Every acknowledged write and Sync, for the linearizability check at the end. */
  private final List<Linearizability.Op> ops = new ArrayList<>();
  private long maxAckedZxid;
  private long acked;
  private long retried;
  private String violation;

  // -----------------------------------------------------------------------------------------------
  // Recording

  /** A member applied {@code txn}; returns a violation or null. */
  String applied(int member, Txn txn) {
    long zxid = txn.getZxid();
    if (zxid == decided.size() + 1) {
      long before = effectiveTimeMs.isEmpty() ? 0 : effectiveTimeMs.get(effectiveTimeMs.size() - 1);
      effectiveTimeMs.add(Math.max(before, txn.getTimeMs()));
      decided.add(txn);
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
    if (!tookEffect(response)) {
      return; // decided, but refused at apply (the session had ended, ...): nothing took effect
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
    for (Map.Entry<String, NodeRecord> e : s.nodes().entrySet()) {
      long owner = e.getValue().getStat().getEphemeralOwner();
      if (owner != 0 && !live.contains(owner)) {
        fail("member " + member + " holds ephemeral " + e.getKey() + " of session " + owner
            + ", which it does not hold");
      }
    }
    return violation;
  }

  private void fail(String what) {
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
}
