package dev.synod.server.state;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Response;
import dev.synod.txn.v1.CachedResult;
import dev.synod.txn.v1.SessionRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The live sessions, by id, with each session's dedup state: the last applied request number and
 * a bounded window of recent results, each with the digest of the write it answers. All of it is
 * replicated state (it goes in snapshots); a session's window size came with its CreateSessionTxn,
 * so it is the same on every replica whatever their settings.
 * Not thread-safe: the state machine's lock guards it.
 */
final class SessionTable {
  private final NavigableMap<Long, Session> sessions = new TreeMap<>();

  static final class Session {
    final long id;
    final long secret;
    final long timeoutMs;
    /** Results kept for retries (the dedup window). */
    final int recentResultsMax;
    private long lastRequestNo;
    /**
     * By request number, in insertion order: request numbers only grow, so that is also key
     * order and the first entry is the oldest (O(1) insert and evict, deterministic iteration).
     */
    private final LinkedHashMap<Long, CachedResult> recentResults = new LinkedHashMap<>();

    Session(long id, long secret, long timeoutMs, int recentResultsMax) {
      this.id = id;
      this.secret = secret;
      this.timeoutMs = timeoutMs;
      this.recentResultsMax = recentResultsMax;
    }

    long lastRequestNo() {
      return lastRequestNo;
    }

    /** The kept result of {@code requestNo}, or null once it has left the window. */
    CachedResult cachedResult(long requestNo) {
      return recentResults.get(requestNo);
    }

    /**
     * True when {@code requestNo} (at most the last applied) may have left the window: the window
     * is full and the number is not above its oldest kept one. False means this session never
     * applied a write with that number (it skipped it).
     */
    boolean mayHaveLeftWindow(long requestNo) {
      if (recentResults.size() < recentResultsMax) {
        return false; // nothing was ever dropped
      }
      long oldestKept = recentResults.keySet().iterator().next();
      return Long.compareUnsigned(requestNo, oldestKept) < 0;
    }
  }

  Session get(long id) {
    return sessions.get(id);
  }

  /** Adds a session; {@code recentResultsMax} as its CreateSessionTxn asked (0: the default). */
  void add(long id, long secret, long timeoutMs, long recentResultsMax) {
    sessions.put(id, new Session(id, secret, timeoutMs,
        ReplicatedLimits.recentResultsWindow(recentResultsMax)));
  }

  void remove(long id) {
    sessions.remove(id);
  }

  int size() {
    return sessions.size();
  }

  /** Sessions in ascending id order. */
  Iterable<Session> all() {
    return sessions.values();
  }

  /**
   * Records the result of a newly applied write and the digest of that write, evicting the oldest
   * beyond the session's window.
   */
  void recordResult(Session session, long requestNo, long zxid, ByteString requestDigest,
      Response response) {
    session.lastRequestNo = requestNo;
    session.recentResults.put(requestNo, CachedResult.newBuilder()
        .setRequestNo(requestNo).setZxid(zxid).setRequestDigest(requestDigest)
        .setResponse(response).build());
    Iterator<Long> oldest = session.recentResults.keySet().iterator();
    while (session.recentResults.size() > session.recentResultsMax) {
      oldest.next();
      oldest.remove();
    }
  }

  List<SessionRecord> toRecords() {
    List<SessionRecord> records = new ArrayList<>(sessions.size());
    for (Session s : sessions.values()) {
      records.add(SessionRecord.newBuilder()
          .setSessionId(s.id)
          .setSecret(s.secret)
          .setTimeoutMs(s.timeoutMs)
          .setLastRequestNo(s.lastRequestNo)
          .addAllRecentResults(s.recentResults.values())
          .setRecentResultsMax(s.recentResultsMax)
          .build());
    }
    return records;
  }

  void load(List<SessionRecord> records) {
    sessions.clear();
    for (SessionRecord record : records) {
      Session s = new Session(record.getSessionId(), record.getSecret(), record.getTimeoutMs(),
          ReplicatedLimits.recentResultsWindow(Integer.toUnsignedLong(record.getRecentResultsMax())));
      if (sessions.putIfAbsent(s.id, s) != null) {
        throw new IllegalArgumentException("snapshot lists session " + s.id + " twice");
      }
      s.lastRequestNo = record.getLastRequestNo();
      List<CachedResult> cached = new ArrayList<>(record.getRecentResultsList());
      cached.sort((a, b) -> Long.compareUnsigned(a.getRequestNo(), b.getRequestNo()));
      int window = s.recentResultsMax;
      for (CachedResult c : cached.subList(Math.max(0, cached.size() - window), cached.size())) {
        s.recentResults.put(c.getRequestNo(), c);
      }
    }
  }
}
