package dev.synod.server.pipeline;

import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.ExpireTtlTxn;
import dev.synod.txn.v1.Txn;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The leader's periodic duties, each turned into a Txn so the decision is in the log: expiring
 * sessions that stopped heartbeating (monotonic time, {@link SessionTracker}), and deleting TTL
 * nodes whose time ran out on the cluster's clock ({@link ClusterTime}: elapsed time, never a raw
 * wall clock, so a clock jump cannot delete them early).
 */
public final class Housekeeper implements AutoCloseable {
  /** Most TTL deletions proposed per round, so a mass expiry cannot flood the write queue. */
  static final int TTL_DELETIONS_PER_ROUND_MAX = 1_000;

  private final SessionTracker tracker;
  private final StateMachine state;
  private final WritePipeline pipeline;
  private final ClusterTime clusterTime;
  private final long intervalMs;
  private final Set<String> ttlInFlight = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "synod-housekeeping");
    t.setDaemon(true);
    return t;
  });

  public Housekeeper(SessionTracker tracker, StateMachine state, WritePipeline pipeline,
      ClusterTime clusterTime, long intervalMs) {
    this.tracker = tracker;
    this.state = state;
    this.pipeline = pipeline;
    this.clusterTime = clusterTime;
    this.intervalMs = intervalMs;
  }

  public void start() {
    timer.scheduleWithFixedDelay(this::round, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  public void round() {
    try {
      // Every member reads the cluster clock, so its anchor follows the decided time as it is
      // applied: should this server become leader, it counts the time since (see ClusterTime).
      clusterTime.nowMs();
      if (!pipeline.isLeader()) {
        return; // only the leader decides expiry; followers relay liveness to it
      }
      expireSessions();
      expireTtlNodes();
    } catch (RuntimeException e) {
      // A bug here must not silently stop expiry forever: report it and keep the schedule.
      LoggerFactory.getLogger(Housekeeper.class).error("housekeeping round failed: {}", e.toString(), e);
    }
  }

  private void expireSessions() {
    for (long id : tracker.collectExpired()) {
      Txn.Builder txn = Txn.newBuilder()
          .setSessionId(id)
          .setCloseSession(CloseSessionTxn.newBuilder().setExpired(true));
      try {
        pipeline.submit(txn, (t, r) -> {});
      } catch (SynodException e) {
        tracker.retryExpiry(id);
      }
    }
  }

  private void expireTtlNodes() {
    long nowMs = clusterTime.nowMs();
    for (StateMachine.TtlCandidate c : state.expiredTtlNodes(nowMs, TTL_DELETIONS_PER_ROUND_MAX)) {
      if (!ttlInFlight.add(c.path())) {
        continue;
      }
      Txn.Builder txn = Txn.newBuilder()
          .setExpireTtl(ExpireTtlTxn.newBuilder().setPath(c.path()).setMzxid(c.mzxid()));
      try {
        pipeline.submit(txn, (t, r) -> ttlInFlight.remove(c.path()));
      } catch (SynodException e) {
        ttlInFlight.remove(c.path());
        return;
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
