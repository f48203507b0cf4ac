package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MemberStatus;
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
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(ConsensusDriver.class);

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
  private final FatalHandler fatal;
  private final SnapshotSource snapshotSource;
  private final PeerTransport transport;
  private final AtomicInteger pendingWrites = new AtomicInteger();
  /** When we last said we drop a peer's messages (they are of another cluster). */
  private final Map<Integer, Long> foreignWarnedAtNanos = new TreeMap<>();
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
    this.fatal = fatal;
    // A follower may need a snapshot newer than any on disk (it was told of another leader's
    // compaction point): one is taken then, and written like the loop's own.
    this.snapshotSource = new SnapshotSource(store.disk(), new SnapshotSource.Files() {
      @Override
      public SortedMap<Long, Path> list() throws IOException {
        return store.snapshotFiles();
      }

      @Override
      public void writeCovering(long minSlot) throws IOException, InterruptedException {
        Snapshot s = snapshotForTransfer(minSlot);
        try {
          store.writeSnapshot(s);
        } catch (IOException | RuntimeException e) {
          fatal.fatal("snapshot at slot " + s.slot() + " (for a follower) failed", e);
          throw e;
        }
      }
    });
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
      warnForeign(envelope.getFrom(), envelope.getClusterId());
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

  /** At most once a minute per peer: messages of another cluster are dropped, and why. */
  private void warnForeign(int from, long theirs) {
    long now = clock.monoNanos();
    synchronized (foreignWarnedAtNanos) {
      Long last = foreignWarnedAtNanos.get(from);
      if (last != null && now - last < TimeUnit.MINUTES.toNanos(1)) {
        return;
      }
      foreignWarnedAtNanos.put(from, now);
    }
    LOG.atWarn().addKeyValue("server", cluster.selfId()).addKeyValue("peer", from)
        .log("dropping messages from server " + from + ": it belongs to cluster "
        + ClusterIdentity.text(theirs) + ", this server to cluster " + ClusterIdentity.text(clusterId())
        + " (another cluster at that address, or a data directory of another cluster)");
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
    dev.synod.api.v1.ListMembersResponse.Builder out = dev.synod.api.v1.ListMembersResponse.newBuilder()
        .setMemberId(cluster.selfId());
    ReplicaLoop l = loop;
    Replica.Status s = l == null ? null : l.status();
    if (s != null) {
      out.setLeaderId(Math.max(0, s.leaderId())).setCommitSlot(s.commitIndex()).addAllMembers(members(s));
    }
    return out.build();
  }

  /** Every member's peer address as this server knows it now (any thread). */
  public MemberDirectory directory() {
    return transport.members();
  }

  /** A snapshot of the current state for a follower, taken on the loop's thread. */
  Snapshot snapshotForTransfer(long minSlot) throws InterruptedException {
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    if (!runner.post(new ReplicaEvent.SnapshotWanted(minSlot, result::complete))) {
      throw new IllegalStateException("the leader is overloaded; retry the snapshot fetch");
    }
    try {
      Snapshot s = result.get(30, TimeUnit.SECONDS);
      if (s == null) {
        throw new IllegalStateException("this server is shutting down");
      }
      if (s.slot() < minSlot) {
        throw new IllegalStateException("this server has applied only up to slot " + s.slot());
      }
      return s;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("could not take a snapshot: " + e);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Status (any thread)

  /** Fills the cluster part of a Status answer. */
  public void describe(StatusResponse.Builder out) {
    ReplicaLoop l = loop;
    Replica.Status s = l == null ? null : l.status();
    if (s == null) {
      return;
    }
    out.setRole(s.role())
        .setLeaderId(Math.max(0, s.leaderId()))
        .setBallot(s.ballot().round() + "." + s.ballot().node())
        .setCommitSlot(s.commitIndex())
        .setAppliedSlot(l.appliedSlot());
    out.addAllMembers(members(s));
  }

  /**
   * Every member of the latest decided membership known here: role, peer address, and (on the
   * leader) how far it has acknowledged.
   */
  public static java.util.List<MemberStatus> members(Replica.Status s, MemberDirectory directory) {
    java.util.List<MemberStatus> out = new java.util.ArrayList<>();
    for (dev.synod.consensus.Membership.Member member : s.membership().members().values()) {
      int id = member.id();
      String address = member.address().isEmpty() ? directory.address(id) : member.address();
      MemberStatus.Builder m = MemberStatus.newBuilder().setId(id).setAddress(address)
          .setRole(MembersNode.roleName(member.role()));
      Long match = s.peerMatch().get(id);
      if (match == null && id == directory.selfId() && s.leaderId() == id) {
        match = s.lastSlot(); // the leader holds everything it has proposed
      }
      if (match != null) {
        m.setMatchSlot(match).setLagSlots(Math.max(0, s.commitIndex() - match));
      }
      out.add(m.build());
    }
    return out;
  }

  private java.util.List<MemberStatus> members(Replica.Status s) {
    return members(s, transport.members());
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
