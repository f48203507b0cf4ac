package dev.synod.server.observe;

import dev.synod.consensus.Replica;
import dev.synod.server.replication.ConsensusDriver;
import dev.synod.server.replication.PeerTransport;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.DurableStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.LoggerFactory;

/**
 * {@link ServerMetrics} on Micrometer's Prometheus registry, plus the gauges read at scrape time
 * (sessions, watches, nodes, bytes, queues, slots, per-peer lag and reachability, readiness) and
 * the JVM's (memory, GC, threads, classes, CPU, file descriptors, uptime). Every name starts with
 * {@code synod_} except the JVM's and the process's; docs/metrics.md lists them.
 *
 * <p>Latencies are histograms with fixed buckets (Prometheus {@code _bucket} series), so
 * percentiles can be computed across members; sizes likewise.
 */
public final class PrometheusMetrics implements ServerMetrics, AutoCloseable {
  /** Outcomes that mean the client sent something malformed: each gets a rate-limited warning. */
  static final Set<String> MALFORMED = Set.of("BAD_ARGUMENT", "INVALID_PATH", "PROTOCOL_VIOLATION",
      "REQUEST_TOO_LARGE", "VALUE_TOO_LARGE", "INVALID_ACL", "INVALID_TTL", "INVALID_ARGUMENT");
  /** Request, commit and fsync latency buckets: 0.5 ms to 10 s. */
  private static final Duration[] LATENCY_BUCKETS = durations(0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500,
      1_000, 2_500, 5_000, 10_000);
  /** Snapshot duration buckets: 10 ms to 5 min. */
  private static final Duration[] SNAPSHOT_BUCKETS = durations(10, 50, 100, 500, 1_000, 5_000, 10_000,
      30_000, 60_000, 300_000);
  private static final double[] BATCH_TXN_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000};
  private static final double[] BYTE_BUCKETS = {1 << 10, 16 << 10, 256 << 10, 1 << 20, 4 << 20,
      16 << 20, 64 << 20, 256 << 20, 1 << 30};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Timer> requestTimers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> streamsEnded = new ConcurrentHashMap<>();
  private final RateLimitedLog malformed =
      new RateLimitedLog(LoggerFactory.getLogger("dev.synod.server.requests"));
  private final Timer commit;
  private final Timer fsync;
  private final DistributionSummary batchTxns;
  private final DistributionSummary batchBytes;
  private final Counter elections;
  private final Counter leaderChanges;
  private final Counter sessionsExpired;
  private final Timer snapshotWriteTime;
  private final DistributionSummary snapshotWriteSize;
  private final Timer snapshotFetchTime;
  private final DistributionSummary snapshotFetchSize;
  private final Counter snapshotFetchFailures;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public PrometheusMetrics() {
    commit = Timer.builder("synod.write.commit")
        .description("from a write's submission on this server to its result (queue, consensus, fsync, apply)")
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    fsync = Timer.builder("synod.disk.fsync")
        .description("one fsync of a log segment, a snapshot or a directory")
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    batchTxns = DistributionSummary.builder("synod.batch.txns")
        .description("transactions in one proposed slot (group commit), on the leader")
        .serviceLevelObjectives(BATCH_TXN_BUCKETS).register(registry);
    batchBytes = DistributionSummary.builder("synod.batch.size").baseUnit("bytes")
        .description("bytes of one proposed slot, on the leader")
        .serviceLevelObjectives(BYTE_BUCKETS).register(registry);
    elections = Counter.builder("synod.elections")
        .description("elections this member started (phase 1 of a new ballot)").register(registry);
    leaderChanges = Counter.builder("synod.leader.changes")
        .description("changes of the leader this member knows (to another member or itself)").register(registry);
    sessionsExpired = Counter.builder("synod.sessions.expired")
        .description("sessions expired, as decided in the log").register(registry);
    snapshotWriteTime = Timer.builder("synod.snapshot.duration").tag("kind", "written")
        .description("writing this member's own snapshot, or fetching and storing the leader's")
        .serviceLevelObjectives(SNAPSHOT_BUCKETS).register(registry);
    snapshotFetchTime = Timer.builder("synod.snapshot.duration").tag("kind", "fetched")
        .description("writing this member's own snapshot, or fetching and storing the leader's")
        .serviceLevelObjectives(SNAPSHOT_BUCKETS).register(registry);
    snapshotWriteSize = DistributionSummary.builder("synod.snapshot.size").baseUnit("bytes").tag("kind", "written")
        .description("size of a snapshot written or fetched").serviceLevelObjectives(BYTE_BUCKETS).register(registry);
    snapshotFetchSize = DistributionSummary.builder("synod.snapshot.size").baseUnit("bytes").tag("kind", "fetched")
        .description("size of a snapshot written or fetched").serviceLevelObjectives(BYTE_BUCKETS).register(registry);
    snapshotFetchFailures = Counter.builder("synod.snapshot.fetch.failures")
        .description("failed fetches of the leader's snapshot (each is retried)").register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /**
   * Registers the gauges read from the running node at each scrape. Call once, before serving.
   */
  public void bindNode(ConsensusDriver driver, StateMachine state, DurableStore store, PeerTransport peers,
      Readiness readiness) {
    gauge("synod.nodes", "nodes in the data tree", state, s -> s.stats().nodeCount());
    gauge("synod.sessions", "live sessions", state, s -> s.stats().sessionCount());
    gauge("synod.watches", "watch registrations", state, s -> s.stats().watchCount());
    gauge("synod.last.zxid", "zxid of the last transaction applied", state, s -> s.stats().lastZxid());
    // The soft quota limits are reported, not enforced: here, in Status (quota_warnings) and the log.
    gauge("synod.quota.soft.exceeded", "soft quota limits (count or bytes of a subtree) now exceeded", state,
        s -> s.quotaWarnings().size());
    Gauge.builder("synod.log.size", store, DurableStore::logBytes).baseUnit("bytes")
        .description("bytes the write-ahead log takes on disk").register(registry);
    Gauge.builder("synod.snapshot.stored.size", store, PrometheusMetrics::newestSnapshotBytes).baseUnit("bytes")
        .description("bytes of the newest snapshot on disk").register(registry);
    gauge("synod.applied.slot", "last slot applied to the state machine", driver, ConsensusDriver::appliedSlot);
    gauge("synod.commit.slot", "last slot known decided", driver, d -> status(d, s -> s.commitIndex()));
    gauge("synod.ballot.round", "round of the highest ballot promised", driver,
        d -> status(d, s -> s.ballot().round()));
    gauge("synod.leader", "the leader this member knows (its id; -1: none)", driver,
        d -> status(d, s -> s.leaderId()));
    gauge("synod.is.leader", "1 while this member leads", driver, d -> d.isLeader() ? 1 : 0);
    gauge("synod.leader.contact.age.seconds", "a leader's last majority contact, a follower's last"
        + " acknowledgement from its leader (seconds ago)", driver,
        d -> Math.min(d.leaderContact().ageNanos(), TimeUnit.DAYS.toNanos(1)) / 1e9);
    gauge("synod.ready", "1 while this member is ready (see /readyz)", readiness, r -> r.check().ready() ? 1 : 0);
    gauge("synod.queue.pending.writes", "client writes submitted here and not yet applied", driver,
        ConsensusDriver::pendingWrites);
    gauge("synod.queue.replication.events", "events waiting for the replica loop", driver,
        ConsensusDriver::queuedEvents);
    // Every peer this member ever links to (members added later too); Micrometer keeps one per id.
    peers.forEachPeer(peer -> {
      String id = Integer.toString(peer);
      Gauge.builder("synod.peer.lag.slots", driver, d -> peerLag(d, peer)).tag("peer", id)
          .description("on the leader: decided slots the peer has not acknowledged (NaN elsewhere)")
          .register(registry);
      Gauge.builder("synod.peer.reachable", peers, p -> p.reachable(peer) ? 1 : 0).tag("peer", id)
          .description("1 while the link to the peer is connected").register(registry);
      Gauge.builder("synod.peer.queue.envelopes", peers, p -> p.queued(peer)).tag("peer", id)
          .description("messages waiting to be sent to the peer").register(registry);
      FunctionCounter.builder("synod.peer.dropped.envelopes", peers, p -> p.dropped(peer)).tag("peer", id)
          .description("messages to the peer dropped (link down or queue full; consensus retransmits)")
          .register(registry);
    });
  }

  /** The Prometheus text exposition of every metric. */
  public String scrape() {
    return registry.scrape();
  }

  // -----------------------------------------------------------------------------------------------
  // ServerMetrics

  @Override
  public long startNanos() {
    return System.nanoTime();
  }

  @Override
  public void requestDone(String api, String op, String outcome, String detail, long startNanos) {
    long nanos = System.nanoTime() - startNanos;
    requestTimers.computeIfAbsent(api + '\0' + op + '\0' + outcome, k -> Timer.builder("synod.requests")
        .description("client requests answered, by api (stream or unary), op and outcome (ok or the error reason)")
        .tag("api", api).tag("op", op).tag("outcome", outcome)
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
    if (MALFORMED.contains(outcome)) {
      malformed.warn("refused a malformed " + api + " request (" + op + "): " + outcome + ": " + clip(detail));
    }
  }

  @Override
  public void streamEnded(String reason, String detail) {
    streamsEnded.computeIfAbsent(reason, r -> Counter.builder("synod.session.streams.ended")
        .description("session streams the server ended with an error, by reason")
        .tag("reason", r).register(registry)).increment();
    if (MALFORMED.contains(reason)) {
      malformed.warn("ended a session stream: " + reason + ": " + clip(detail));
    }
  }

  @Override
  public void writeCommitted(long startNanos) {
    commit.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void fsyncDone(long nanos) {
    fsync.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void batchProposed(int txns, int bytes) {
    batchTxns.record(txns);
    batchBytes.record(bytes);
  }

  @Override
  public void electionStarted() {
    elections.increment();
  }

  @Override
  public void leaderChanged() {
    leaderChanges.increment();
  }

  @Override
  public void sessionExpired() {
    sessionsExpired.increment();
  }

  @Override
  public void snapshotWritten(long nanos, long bytes) {
    snapshotWriteTime.record(nanos, TimeUnit.NANOSECONDS);
    snapshotWriteSize.record(bytes);
  }

  @Override
  public void snapshotFetched(long nanos, long bytes) {
    snapshotFetchTime.record(nanos, TimeUnit.NANOSECONDS);
    snapshotFetchSize.record(bytes);
  }

  @Override
  public void snapshotFetchFailed() {
    snapshotFetchFailures.increment();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  // -----------------------------------------------------------------------------------------------

  private <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  private static double status(ConsensusDriver driver, ToDoubleFunction<Replica.Status> value) {
    Replica.Status s = driver.replicaStatus();
    return s == null ? Double.NaN : value.applyAsDouble(s);
  }

  private static double peerLag(ConsensusDriver driver, int peer) {
    Replica.Status s = driver.replicaStatus();
    if (s == null || !"leader".equals(s.role())) {
      return Double.NaN;
    }
    Long match = s.peerMatch().get(peer);
    return match == null ? s.commitIndex() : Math.max(0, s.commitIndex() - match);
  }

  private static double newestSnapshotBytes(DurableStore store) {
    try {
      SortedMap<Long, Path> files = store.snapshotFiles();
      return files.isEmpty() ? 0 : Files.size(files.get(files.lastKey()));
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** At most 200 characters of an error message for a log line. */
  private static String clip(String detail) {
    if (detail == null) {
      return "";
    }
    return detail.length() <= 200 ? detail : detail.substring(0, 200) + "...";
  }

  private static Duration[] durations(double... millis) {
    Duration[] out = new Duration[millis.length];
    for (int i = 0; i < millis.length; i++) {
      out[i] = Duration.ofNanos((long) (millis[i] * 1_000_000));
    }
    return out;
  }
}
