package dev.synod.server.state;

import dev.synod.api.v1.Response;
import dev.synod.txn.v1.CachedResult;
import dev.synod.txn.v1.SessionRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The live sessions, by id, with each session's dedup state: the last applied request number and
 * a bounded window of recent results. All of it is replicated state (it goes in snapshots).
 * Not thread-safe: the state machine's lock guards it.
 */
final class SessionTable {
  private final NavigableMap<Long, Session> sessions = new TreeMap<>();
  private final int recentResultsMax;

  SessionTable(int recentResultsMax) {
    this.recentResultsMax = recentResultsMax;
  }

  static final class Session {
    final long id;
    final long secret;
    final long timeoutMs;
    private long lastRequestNo;
    /**
     * By request number, in insertion order: request numbers only grow, so that is also key
     * order and the first entry is the oldest (O(1) insert and evict, deterministic iteration).
     */
    private final LinkedHashMap<Long, CachedResult> recentResults = new LinkedHashMap<>();

    Session(long id, long secret, long timeoutMs) {
      this.id = id;
      this.secret = secret;
      this.timeoutMs = timeoutMs;
    }

    long lastRequestNo() {
      return lastRequestNo;
    }

    /** The original response to {@code requestNo}, or null once it has left the window. */
    Response cachedResponse(long requestNo) {
      CachedResult cached = recentResults.get(requestNo);
      return cached == null ? null : cached.getResponse();
    }
  }

  Session get(long id) {
    return sessions.get(id);
  }

  void add(long id, long secret, long timeoutMs) {
    sessions.put(id, new Session(id, secret, timeoutMs));
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

  /** Records the result of a newly applied write, evicting the oldest beyond the window. */
  void recordResult(Session session, long requestNo, long zxid, Response response) {
    session.lastRequestNo = requestNo;
    session.recentResults.put(requestNo, CachedResult.newBuilder()
        .setRequestNo(requestNo).setZxid(zxid).setResponse(response).build());
    Iterator<Long> oldest = session.recentResults.keySet().iterator();
    while (session.recentResults.size() > recentResultsMax) {
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
          .build());
    }
    return records;
  }

  void load(List<SessionRecord> records) {
    sessions.clear();
    for (SessionRecord record : records) {
      Session s = new Session(record.getSessionId(), record.getSecret(), record.getTimeoutMs());
      if (sessions.putIfAbsent(s.id, s) != null) {
        throw new IllegalArgumentException("snapshot lists session " + s.id + " twice");
      }
      s.lastRequestNo = record.getLastRequestNo();
      List<CachedResult> cached = new ArrayList<>(record.getRecentResultsList());
      cached.sort(Comparator.comparingLong(CachedResult::getRequestNo));
      for (CachedResult c : cached.subList(Math.max(0, cached.size() - recentResultsMax), cached.size())) {
        s.recentResults.put(c.getRequestNo(), c);
      }
    }
  }
}
