package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.StatusResponse;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Replica;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.observe.ServerMetrics;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.ClusterTime;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This server's replication as the rest of the server sees it: the {@link WritePipeline} the
 * client services submit to, the sink for what peers send, and the cluster part of Status. It
 * recovers the durable state, builds the {@link ReplicaLoop} that does the work, and hands it to
 * a {@link ReplicaRunner}; everything here only translates and posts events.
 *
 * <p>Cluster identity: every envelope carries this server's cluster id (0 until it knows it), and
 * envelopes of another cluster are dropped here, before they reach the loop. A leader that does
 * not know its cluster's id proposes a random one; the first such batch decided in the log is the
 * id (everyone applies the log in order, so everyone agrees). A member that has no id yet adopts
 * its leader's (a joining member is admitted by that leader; one that installed a snapshot never
 * applies the batch).
 */
public final class ConsensusDriver implements WritePipeline, MemberAdmin, AutoCloseable {

  private final ServerConfig config;
  private final ClusterConfig cluster;
  private final ClusterIdentity identity;
  private final DurableStore store;
  private final StateMachine state;
  private final SessionTracker tracker;
  private final Clock clock;
  private final ClusterTime clusterTime;
  private final Runnable onSnapshotInstalled;
  private final ServerMetrics metrics;
  private final ReplicaRunner runner;
  private final SnapshotSource snapshotSource;
  private final PeerTransport transport;
  private final AtomicInteger pendingWrites = new AtomicInteger();
  private final ForeignClusterWarnings foreignWarnings;
  private volatile ReplicaLoop loop;

  /** Counts and times through {@code metrics} ({@link ServerMetrics#NONE}: nothing). */
  public ConsensusDriver(
      ServerConfig config,
      ClusterConfig cluster,
      ClusterIdentity identity,
      DurableStore store,
      StateMachine state,
      SessionTracker tracker,
      PeerTransport transport,
      Clock clock,
      ClusterTime clusterTime,
      FatalHandler fatal,
      Runnable onSnapshotInstalled,
      ServerMetrics metrics) {
    this.config = config;
    this.cluster = cluster;
    this.identity = identity;
    this.store = store;
    this.state = state;
    this.tracker = tracker;
    this.clock = clock;
    this.clusterTime = clusterTime;
    this.onSnapshotInstalled = onSnapshotInstalled;
    this.metrics = metrics;
    this.transport = transport;
    this.runner = new ReplicaRunner(transport, store, clock, fatal, config.tickMs(), metrics);
    this.foreignWarnings = new ForeignClusterWarnings(cluster.selfId(), clock);
    this.snapshotSource = new SnapshotSource(store.disk(), new SnapshotFiles(store, runner, fatal));
  }

  /**
   * Recovers the state (newest snapshot, then every slot the log says is decided) and starts the
   * replica loop.
   *
   * @throws IOException when the data cannot be read or trusted
   */
  public void start() throws IOException {
    Optional<Snapshot> snapshot = store.loadSnapshot();
    AcceptorLog acceptorLog = new AcceptorLog(store);
    DurableState durable = acceptorLog.recover(snapshot.map(Snapshot::slot).orElse(0L), identity.founding());
    loop = new ReplicaLoop(config, cluster, state, tracker, acceptorLog, runner, clock, clusterTime,
        new SecureRandom(), identity, snapshot, durable, onSnapshotInstalled,
        txn -> { });
    runner.start(loop);
  }

  @Override
  public void close() {
    runner.close();
  }

  // -----------------------------------------------------------------------------------------------
  // WritePipeline (any thread)

  @Override
  public void submit(Txn.Builder txn, Applied onApplied) throws SynodException {
    if (pendingWrites.get() >= config.pendingWritesMax()) {
      throw new SynodException(ErrorReason.OVERLOADED, "write queue is full ("
          + pendingWrites.get() + " pending); retry with backoff");
    }
    pendingWrites.incrementAndGet();
    long start = metrics.startNanos();
    Applied counted = (t, r) -> {
      pendingWrites.decrementAndGet();
      metrics.writeCommitted(start);
      onApplied.onApplied(t, r);
    };
    runner.post(new ReplicaEvent.ClientWrite(txn, counted, deadline()));
  }

  @Override
  public void barrier(BarrierDone done) throws SynodException {
    runner.post(new ReplicaEvent.Barrier(done, deadline()));
  }

  @Override
  public LeaderContact leaderContact() {
    ReplicaLoop l = loop;
    return l == null ? new LeaderContact(false, Long.MAX_VALUE) : l.leaderContact();
  }

  @Override
  public boolean isLeader() {
    ReplicaLoop l = loop;
    return l != null && l.isLeader();
  }

  private long deadline() {
    return clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(config.writeTimeoutMs());
  }

  // -----------------------------------------------------------------------------------------------
  // From peers (gRPC threads)

  /** Something a peer sent; malformed or unexpected input is dropped, never fatal. */
  void receive(PeerEnvelope envelope) {
    if (isForeign(envelope.getClusterId())) {
      foreignWarnings.dropped(envelope.getFrom(), envelope.getClusterId(), clusterId());
      return;
    }
    ReplicaEvent event = ReplicaEvent.fromPeer(envelope, transport.members()::contains, cluster.selfId(),
        clusterId());
    if (event != null) {
      runner.post(event);
    }
  }

  /** This server's cluster id, 0 while unknown (any thread). */
  public long clusterId() {
    ReplicaLoop l = loop;
    return l == null ? identity.clusterId() : l.clusterId();
  }

  /** {@code theirs} is another cluster's id (0, not known yet, is nobody's). */
  boolean isForeign(long theirs) {
    return ReplicaEvent.isForeign(theirs, clusterId());
  }

  /** This server's snapshot files, for followers that fetch one. */
  SnapshotSource snapshotSource() {
    return snapshotSource;
  }

  /**
   * An operator's membership change or leadership transfer (any thread): answered once it took
   * effect here (decided and applied; the new leader leads), was refused, or {@code timeoutMs}
   * passed.
   */
  @Override
  public CompletableFuture<MemberChanges.Outcome> changeMembers(MemberChanges.Request request, long timeoutMs) {
    CompletableFuture<MemberChanges.Outcome> result = new CompletableFuture<>();
    runner.post(new ReplicaEvent.MemberChange(request, result::complete,
        clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(timeoutMs)));
    return result;
  }

  @Override
  public dev.synod.api.v1.ListMembersResponse listMembers() {
    ReplicaLoop l = loop;
    return MemberStatuses.list(cluster.selfId(), l == null ? null : l.status(), transport.members());
  }

  /** Every member's peer address as this server knows it now (any thread). */
  public MemberDirectory directory() {
    return transport.members();
  }

  // -----------------------------------------------------------------------------------------------
  // Status (any thread)

  /** Fills the cluster part of a Status answer. */
  public void describe(StatusResponse.Builder out) {
    ReplicaLoop l = loop;
    if (l != null) {
      ReplicaLoop.StatusView view = l.statusView();
      MemberStatuses.describe(out, view.consensus(), view.appliedSlot(), transport.members());
    }
  }

  public long appliedSlot() {
    ReplicaLoop l = loop;
    return l == null ? 0 : l.appliedSlot();
  }

  // -----------------------------------------------------------------------------------------------
  // For metrics and readiness (any thread)

  /** The consensus module's view (refreshed every tick), or null before the start. */
  public Replica.Status replicaStatus() {
    ReplicaLoop l = loop;
    return l == null ? null : l.status();
  }

  /** Why the replica loop stopped for good, or null while it runs (or before it starts). */
  public String stopped() {
    ReplicaLoop l = loop;
    return l == null ? null : l.stopped();
  }

  /** Client writes submitted here and not yet applied. */
  public int pendingWrites() {
    return pendingWrites.get();
  }

  /** Events queued for the replica loop. */
  public int queuedEvents() {
    return runner.queuedEvents();
  }

  /** This member's id and the other members' ids. */
  public ClusterConfig cluster() {
    return cluster;
  }
}
