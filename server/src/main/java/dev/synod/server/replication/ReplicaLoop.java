package dev.synod.server.replication;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Message;
import dev.synod.consensus.MessageCodec;
import dev.synod.consensus.RandomSource;
import dev.synod.consensus.Replica;
import dev.synod.consensus.ReplicaConfig;
import dev.synod.peer.v1.ForwardTxns;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.ReadIndexReply;
import dev.synod.peer.v1.ReadIndexRequest;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.ClusterTime;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.replication.ReplicaEvent.Barrier;
import dev.synod.server.replication.ReplicaEvent.ClientWrite;
import dev.synod.server.replication.ReplicaEvent.Forwarded;
import dev.synod.server.replication.ReplicaEvent.Liveness;
import dev.synod.server.replication.ReplicaEvent.LivenessAck;
import dev.synod.server.replication.ReplicaEvent.MemberChange;
import dev.synod.server.replication.ReplicaEvent.PeerMessage;
import dev.synod.server.replication.ReplicaEvent.Persisted;
import dev.synod.server.replication.ReplicaEvent.ReadIndexAnswered;
import dev.synod.server.replication.ReplicaEvent.ReadIndexAsked;
import dev.synod.server.replication.ReplicaEvent.SnapshotFetchFailed;
import dev.synod.server.replication.ReplicaEvent.SnapshotFetched;
import dev.synod.server.replication.ReplicaEvent.SnapshotWanted;
import dev.synod.server.replication.ReplicaEvent.SnapshotWritten;
import dev.synod.server.replication.ReplicaEvent.Tick;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.SetMembersTxn;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * One server's replication, as a deterministic object stepped by {@link ReplicaEvent}s: it steps
 * the consensus module, persists what it asks ({@link ReplicaLog}), sends its messages and starts
 * background jobs ({@link ReplicaEffects}), applies decided slots to the state machine and
 * answers the writes and barriers that were submitted here. Writes are packed into slot values by
 * the leader (which stamps their time) or forwarded to the leader by a follower. A single server
 * is a cluster of one on the very same path.
 *
 * <p>No threads, no blocking, no ambient clock or randomness: {@link ReplicaRunner} steps it on
 * one thread in production, the whole-server simulator steps it from one seed. All methods but
 * the volatile status getters must be called from the stepping thread.
 */
public final class ReplicaLoop {
  /** Consensus ticks between barrier retries. */
  static final int RELAY_EVERY_TICKS = 10;
  /**
   * Consensus ticks between a follower's liveness reports to the leader (their acknowledgements
   * measure the follower's contact with the leader, which bounds what it may confirm to clients).
   */
  static final int LIVENESS_EVERY_TICKS = 2;
  /** Syncs in flight at once. */
  static final int BARRIERS_MAX = 10_000;
  /** Snapshots kept on disk: the newest, and one to fall back to if the newest is damaged. */
  static final int SNAPSHOTS_KEPT = 2;

  private final ServerConfig config;
  private final ClusterConfig cluster;
  private final StateMachine state;
  private final SessionTracker tracker;
  private final ReplicaLog log;
  private final ReplicaEffects effects;
  private final Clock clock;
  private final ClusterTime clusterTime;
  private final RandomGenerator secrets;
  private final Runnable onSnapshotInstalled;
  private final Proposals proposals;
  private final ReadBarriers barriers = new ReadBarriers(BARRIERS_MAX);
  private final Replica replica;
  private final ArrayDeque<Long> keptSnapshotSlots = new ArrayDeque<>();
  private final Reactions reactions = new Reactions();
  /** What confirming a session to its client needs: a leader's last majority contact. */
  private final QuorumContact quorumContact;
  private final LivenessReports liveness;
  /** Operators' membership changes waiting to be decided (leader only). */
  private final MemberChanges memberChanges = new MemberChanges();
  /**
   * Told of every Txn just before it is applied, those replayed at recovery too; the simulator
   * checks agreement with it.
   */
  private final Consumer<Txn> appliedObserver;

  /** The cluster this member belongs to; its id is learned once (decided in the log, or from the leader). */
  private ClusterIdentity identity;
  /** {@code identity}'s id, for other threads; 0 while unknown. */
  private volatile long clusterId;
  /** This leadership has proposed a cluster id (one per leadership, until the log decides one). */
  private boolean clusterIdProposed;
  private volatile boolean leader;
  /** What Status and ListMembers show: the module's view and the slot applied with it, paired. */
  private volatile StatusView lastStatus;
  private volatile long appliedSlot;
  /** Set when the loop can no longer keep its promises; it then refuses every event. */
  private volatile String stopped;
  private int lastLeaderId = -1;
  /** The ballot of this member's election in progress (told to effects), or null. */
  private Ballot campaign;
  private long ticks;
  private long txnsSinceSnapshot;
  private boolean snapshotInProgress;
  private boolean fetchingSnapshot;
  /** The Ready whose log write is in flight (its advance waits for it), or null. */
  private Replica.Ready persisting;
  /** Numbers the log writes, so a completion is matched with its write. */
  private long persistRound;
  /**
   * The batches this member proposed, by the identity of the array it proposed (the decided
   * entry carries that same array), so apply need not parse them back. Only a cache.
   */
  private final java.util.IdentityHashMap<byte[], TxnBatch> proposedBatches = new java.util.IdentityHashMap<>();
  /** The Ready in flight sends its acceptances from the persist stage (see {@link #acceptancesOnly}). */
  private boolean sentByPersistStage;
  /** Log upkeep waiting for the write in flight to finish (see {@link #logUpkeep}). */
  private final ArrayDeque<ReplicaEffects.LogWrite> heldUpkeep = new ArrayDeque<>();

  /**
   * Restores {@code snapshot} into {@code state}, applies every slot {@code durable} says is
   * decided, and makes the consensus module ready to be stepped.
   *
   * @param secrets session secrets, this incarnation's origin prefix and a new cluster's id; a
   *     secure generator in production, a seeded one in simulation
   * @param identity the cluster this member belongs to, as its data directory records it
   * @throws IOException recording the cluster id found in a replayed slot failed
   */
  public ReplicaLoop(
      ServerConfig config,
      ClusterConfig cluster,
      StateMachine state,
      SessionTracker tracker,
      ReplicaLog log,
      ReplicaEffects effects,
      Clock clock,
      ClusterTime clusterTime,
      RandomGenerator secrets,
      ClusterIdentity identity,
      Optional<Snapshot> snapshot,
      DurableState durable,
      Runnable onSnapshotInstalled,
      Consumer<Txn> appliedObserver) throws IOException {
    this.config = config;
    this.appliedObserver = appliedObserver;
    this.cluster = cluster;
    this.state = state;
    this.tracker = tracker;
    this.log = log;
    this.effects = effects;
    this.clock = clock;
    this.clusterTime = clusterTime;
    this.secrets = secrets;
    this.onSnapshotInstalled = onSnapshotInstalled;
    this.identity = identity;
    this.clusterId = identity.clusterId();
    List<Integer> voters = durable.membership() != null ? durable.membership().voters() : cluster.memberIds();
    this.quorumContact = new QuorumContact(voters, cluster.selfId());
    this.liveness = new LivenessReports(tracker);
    this.proposals = new Proposals(cluster.selfId(), secrets.nextLong(), config.pendingWritesMax());
    snapshot.ifPresent(s -> {
      state.restore(s);
      keptSnapshotSlots.add(s.slot());
    });
    appliedSlot = snapshot.map(Snapshot::slot).orElse(0L);
    // The membership the snapshot carries, before the log tail is replayed: the consensus module
    // learns the ones decided after the snapshot from its own log.
    Membership stored = storedMembership();
    if (stored != null) {
      durable = durable.withMembership(stored);
      quorumContact.voters(stored.voters());
    }
    for (Entry e : durable.accepted().headMap(durable.commitIndex() + 1).values()) {
      if (e.slot() > appliedSlot) {
        applyEntry(e);
      }
    }
    for (StateMachine.SessionInfo s : state.sessions()) {
      tracker.add(s.id(), s.timeoutMs());
    }
    ReplicaConfig defaults = ReplicaConfig.of(cluster.selfId(), cluster.memberIds());
    ReplicaConfig replicaConfig = new ReplicaConfig(cluster.selfId(), cluster.memberIds(),
        config.electionTicksMin(), config.electionTicksMax(), config.heartbeatTicks(),
        config.inflightSlotsMax(), defaults.catchupEntriesMax(), defaults.messageEntriesMax());
    long replicaSeed = secrets.nextLong();
    replica = new Replica(replicaConfig, durable, RandomSource.seeded(replicaSeed));
    publishStatus();
    membershipKnown(replica.membership());
  }

  // -----------------------------------------------------------------------------------------------
  // Stepping

  /**
   * Handles one event, then works through everything it caused: proposing or forwarding queued
   * writes, persisting, sending, applying, answering.
   *
   * @throws IOException the log could not be written: the server must stop (every waiting write
   *     and barrier has been failed with STORAGE_FAILURE)
   */
  public void step(ReplicaEvent event) throws IOException {
    stepAll(List.of(event));
  }

  /**
   * Handles {@code events} in order, then works through everything they caused at once. This is
   * the loop's group commit: the writes, Accepts and acknowledgements that queued up while the
   * previous round waited for its fsync are proposed as one batch and persisted with one fsync,
   * instead of one fsync each. Equivalent to stepping them one by one, minus the rounds between.
   *
   * @throws IOException as {@link #step}; events not yet handled are refused
   */
  public void stepAll(List<? extends ReplicaEvent> events) throws IOException {
    int handled = 0;
    try {
      for (ReplicaEvent event : events) {
        handled++;
        if (stopped != null) {
          event.refuse(ErrorReason.SHUTTING_DOWN, stopped);
        } else {
          event.dispatch(reactions);
        }
      }
      if (stopped == null) {
        pump();
      }
    } catch (IOException e) {
      stop("the log could not be written: " + e, ErrorReason.STORAGE_FAILURE);
      for (ReplicaEvent later : events.subList(handled, events.size())) {
        later.refuse(ErrorReason.STORAGE_FAILURE, stopped);
      }
      throw e;
    }
  }

  /** The loop's reaction to each kind of event; only {@link #step} calls it. */
  private final class Reactions implements ReplicaEvent.Handler {
    @Override
    public void clientWrite(ClientWrite w) {
      submit(w);
    }

    @Override
    public void barrier(Barrier b) {
      try {
        barriers.add(b.done(), proposals.lastOrigin(), b.deadlineNanos());
      } catch (SynodException e) {
        b.done().done(0, e.toError());
      }
    }

    @Override
    public void peerMessage(PeerMessage m) throws IOException {
      replica.step(m.message());
      quorumContact.received(m.message());
      if (m.clusterId() != 0 && replica.leaderId() == m.from()) {
        adoptClusterId(m.clusterId(), "learned from its leader, server " + m.from());
      }
    }

    @Override
    public void memberChange(MemberChange c) {
      changeMembers(c);
    }

    @Override
    public void forwarded(Forwarded f) {
      proposals.addForwarded(f.txns());
    }

    @Override
    public void liveness(Liveness l) {
      // Only a leader refreshes reported sessions, and it says so in its acknowledgement.
      if (replica.isLeader()) {
        effects.send(l.from(), envelope().setLivenessAck(
            liveness.answer(l.report(), quorumContact.ageNanos(clock.monoNanos()))).build());
      }
    }

    @Override
    public void livenessAck(LivenessAck a) {
      liveness.acknowledged(a.from(), a.ack());
    }

    @Override
    public void readIndexAsked(ReadIndexAsked r) {
      if (replica.isLeader()) {
        replica.requestRead(barriers.addRemote(r.from(), r.readId()));
      } else {
        replyReadIndex(r.from(), r.readId(), false, 0);
      }
    }

    @Override
    public void readIndexAnswered(ReadIndexAnswered r) {
      barriers.onIndex(r.readId(), r.ok(), r.index(), ReplicaLoop.this::replyReadIndex);
    }

    @Override
    public void tick(Tick t) {
      ReplicaLoop.this.tick(t.nowNanos());
    }

    @Override
    public void snapshotWanted(SnapshotWanted w) {
      w.reply().accept(state.snapshot().withSlot(appliedSlot));
    }

    @Override
    public void snapshotWritten(SnapshotWritten w) throws IOException {
      ReplicaLoop.this.snapshotWritten(w.slot(), w.stored());
    }

    @Override
    public void snapshotFetched(SnapshotFetched f) throws IOException {
      adoptClusterId(f.clusterId(), "learned from the leader's snapshot");
      installSnapshot(f.snapshot());
    }

    @Override
    public void snapshotFetchFailed(SnapshotFetchFailed f) {
      fetchingSnapshot = false; // the next Ready that still needs one asks again
    }

    @Override
    public void persisted(Persisted p) throws IOException {
      if (persisting == null || p.round() != persistRound) {
        return; // not a write of this loop's (cannot happen: writes complete in order, once)
      }
      if (p.failure() != null) {
        throw p.failure();
      }
      ReplicaLoop.this.persisted(persisting);
    }
  }

  /**
   * Stops the loop for good: fails every waiting write and barrier with {@code reason}. Later
   * events are refused.
   */
  public void stop(String why, ErrorReason reason) {
    if (stopped != null) {
      return;
    }
    stopped = why;
    proposals.failAll(reason, why);
    barriers.failAll(reason, why);
    memberChanges.failAll(why, replica.membership(), -1);
  }

  private void submit(ClientWrite w) {
    Txn.Builder txn = w.txn();
    proposals.stampOrigin(txn);
    try {
      proposals.addLocal(txn.build(), w.onApplied(), w.deadlineNanos());
    } catch (SynodException e) {
      w.onApplied().onApplied(txn.build(), Response.newBuilder()
          .setRequestNo(txn.getRequestNo()).setError(e.toError()).build());
    }
  }

  private void tick(long now) {
    replica.tick();
    ticks++;
    publishStatus(); // the leader's view of its peers moves with acknowledgements, not only applies
    proposals.expire(now);
    memberChanges.expire(now, replica.membership(), replica.leaderId());
    if (ticks % RELAY_EVERY_TICKS == 0) {
      barriers.retryOrExpire(now, this::requestReadIndex);
    }
    if (ticks % LIVENESS_EVERY_TICKS == 0) {
      relayLiveness();
    }
  }

  /** Proposes or forwards queued writes, then works through everything the module produced. */
  private void pump() throws IOException {
    noticeLeadership();
    if (replica.isLeader()) {
      proposeClusterIdIfUnknown();
      proposeQueued();
    } else {
      forwardQueued();
    }
    // One read index for every sync and linearizable read of this round.
    barriers.askPending(this::requestReadIndex);
    while (persisting == null && replica.hasReady()) {
      Replica.Ready ready = replica.ready();
      // A leader's Accepts go out before its own fsync, so the followers' fsync overlaps it.
      sendAll(ready.sendBeforePersist());
      // Decided entries are durable on a quorum already (this member's own acceptance counts only
      // at advance, after its write): they are applied and answered while this Ready is written.
      for (Entry e : ready.committed()) {
        if (e.slot() > appliedSlot) {
          applyEntry(e);
        }
      }
      for (Replica.ReadState read : ready.reads()) {
        barriers.onIndex(read.readId(), read.ok(), read.index(), this::replyReadIndex);
      }
      if (ready.snapshotNeeded() >= 0) {
        fetchSnapshot(ready.snapshotNeeded());
      }
      persisting = ready;
      if (needsNoSync(ready)) {
        // Nothing to make durable (at most a commit mark, which is never fsynced: one lost in a
        // crash is learned again): a buffered write here, instead of two thread hand-offs to the
        // persist stage and back, which at low load were one round per write on every member.
        log.persist(ready);
        persisted(ready);
      } else {
        List<PeerEnvelope> acks = acceptancesOnly(ready.sendAfterPersist());
        sentByPersistStage = acks != null;
        ReplicaEffects.LogWrite write = acks == null ? () -> log.persist(ready) : () -> {
          log.persist(ready);
          // Durable now: the stage tells the leader itself, rather than handing back to this
          // thread first (one thread hand-off less on every follower's path of every write).
          for (int i = 0; i < acks.size(); i++) {
            effects.send(ready.sendAfterPersist().get(i).to(), acks.get(i));
          }
        };
        if (effects.persist(++persistRound, write)) {
          persisted(ready);
        }
      }
    }
    barriers.complete(appliedSlot, state.lastZxid(), proposals);
    maybeSnapshot();
  }

  /** Publishes the module's whole view with the slot applied at the same moment. */
  private void publishStatus() {
    lastStatus = new StatusView(replica.status(), appliedSlot);
  }

  /**
   * Publishes the last view with this moment's commit index, last slot and applied slot: two
   * small objects per applied slot, where the whole view builds a map of the peers' progress
   * (which the ticks refresh).
   */
  private void publishProgress() {
    Replica.Status s = lastStatus.consensus();
    lastStatus = new StatusView(new Replica.Status(s.role(), s.leaderId(), s.ballot(),
        replica.commitIndex(), replica.lastSlot(), s.peerMatch(), s.membership()), appliedSlot);
  }

  /**
   * The envelopes of {@code after} if it holds only acceptances (a follower's steady state), which
   * the persist stage may send itself once the write is durable: they need none of the
   * bookkeeping {@link #sendAll} does for other kinds. Null otherwise (and when empty).
   */
  private List<PeerEnvelope> acceptancesOnly(List<Message> after) {
    if (after.isEmpty()) {
      return null;
    }
    List<PeerEnvelope> envelopes = new ArrayList<>(after.size());
    for (Message m : after) {
      if (!(m instanceof Message.Accepted)) {
        return null;
      }
      envelopes.add(envelope().setConsensus(UnsafeByteOperations.unsafeWrap(MessageCodec.encode(m))).build());
    }
    return envelopes;
  }

  /** A Ready whose log write needs no fsync: no promise and no entries to accept. */
  private static boolean needsNoSync(Replica.Ready ready) {
    return ready.promised() == null && ready.entries().isEmpty();
  }

  /**
   * A Ready's log write is durable: what it makes true may now be said (promises, acceptances),
   * and this member's own votes in it count. Log upkeep held back meanwhile runs now.
   */
  private void persisted(Replica.Ready ready) throws IOException {
    persisting = null;
    if (ready.promised() != null) {
      observePromise(ready.promised());
    }
    if (!sentByPersistStage) {
      sendAll(ready.sendAfterPersist());
    }
    sentByPersistStage = false;
    replica.advance();
    while (!heldUpkeep.isEmpty()) {
      heldUpkeep.poll().run();
    }
    noticeLeadership();
    if (replica.isLeader()) {
      proposeQueued();
    }
  }

  /**
   * Runs log upkeep (truncation, a snapshot's or cluster id's record) now, or, while a Ready's
   * write is in flight on the persist stage, right after it: the log has one writer at a time.
   */
  private void logUpkeep(ReplicaEffects.LogWrite upkeep) throws IOException {
    if (persisting == null) {
      upkeep.run();
    } else {
      heldUpkeep.add(upkeep);
    }
  }

  /** Reacts to a change of leader: liveness, and writes that may have died with the old one. */
  private void noticeLeadership() {
    boolean leading = replica.isLeader();
    int leaderId = replica.leaderId();
    if (leaderId == lastLeaderId && leading == leader) {
      return;
    }
    publishStatus();
    if (!leading) {
      proposedBatches.clear(); // what it proposed and is still undecided may never be decided now
    }
    if (campaign != null && leaderId >= 0 && !leading) {
      effects.electionLost(campaign, leaderId, lastStatus.consensus().ballot());
      campaign = null;
    } else if (leading) {
      campaign = null;
    }
    effects.leaderChanged(leaderId, lastStatus.consensus().ballot(), leading);
    if (leaderId >= 0) {
      memberChanges.leaderIs(leaderId, replica.membership());
    }
    if (leaderId != lastLeaderId) {
      if (lastLeaderId >= 0) {
        long grace = TimeUnit.MILLISECONDS.toNanos((long) config.tickMs() * config.electionTicksMax());
        proposals.leaderChanged(clock.monoNanos() + grace);
      }
      lastLeaderId = leaderId;
    }
    if (leading != leader) {
      leader = leading;
      clusterIdProposed = false;
      if (leading) {
        // A new leader gives every session a full timeout: it has not heard their heartbeats.
        for (StateMachine.SessionInfo s : state.sessions()) {
          tracker.add(s.id(), s.timeoutMs());
        }
      }
    }
  }

  /**
   * A promise was persisted: this member's own ballot means it started an election (a candidate
   * promises itself first); another member's ballot ends an election of ours in progress.
   */
  private void observePromise(Ballot promised) {
    if (promised.node() == cluster.selfId()) {
      if (!replica.isLeader() && !promised.equals(campaign)) {
        if (campaign != null) {
          effects.electionLost(campaign, replica.leaderId(), promised);
        }
        campaign = promised;
        effects.electionStarted(promised);
      }
    } else if (campaign != null && promised.isAbove(campaign)) {
      effects.electionLost(campaign, replica.leaderId(), promised);
      campaign = null;
    }
  }

  private PeerEnvelope.Builder envelope() {
    return PeerEnvelope.newBuilder().setFrom(cluster.selfId()).setClusterId(clusterId);
  }

  private void sendAll(List<Message> messages) {
    long now = clock.monoNanos();
    for (Message m : messages) {
      quorumContact.sent(m, now);
      if (m instanceof Message.CatchupRequest c) {
        effects.catchingUp(c.to(), c.fromSlot());
      } else if (m instanceof Message.SnapshotRequired r) {
        effects.snapshotRequired(r.to(), r.snapshotSlot());
      }
      effects.send(m.to(), envelope()
          // A fresh array that nothing else holds or changes: wrapped, not copied again.
          .setConsensus(UnsafeByteOperations.unsafeWrap(MessageCodec.encode(m))).build());
    }
  }

  private void proposeQueued() {
    while (proposals.hasQueued()) {
      List<Txn> batch = proposals.takeBatch(config.batchTxnsMax(), config.batchBytesMax());
      // The cluster's clock, not the raw wall clock: never backwards (also across leaders), and a
      // jump of this server's wall clock moves it by at most ClusterTime.WALL_LEAD_MS_MAX.
      // Stamped once, on the batch (apply sets it on each Txn with its zxid): no Txn is rebuilt
      // here but a new session's, which gets its secret.
      long timeMs = clusterTime.stampMs();
      TxnBatch.Builder value = TxnBatch.newBuilder().setTimeMs(timeMs);
      for (Txn txn : batch) {
        if (txn.hasCreateSession()) {
          Txn.Builder withSecret = txn.toBuilder();
          withSecret.getCreateSessionBuilder().setSecret(secrets.nextLong());
          value.addTxns(withSecret);
        } else {
          value.addTxns(txn);
        }
      }
      TxnBatch built = value.build();
      byte[] bytes = built.toByteArray();
      if (!replica.propose(bytes)) {
        proposals.putBack(batch);
        return;
      }
      if (proposedBatches.size() >= 2 * config.inflightSlotsMax()) {
        proposedBatches.clear(); // only a cache (at most the slots in flight): apply parses what it misses
      }
      proposedBatches.put(bytes, built);
      effects.batchProposed(batch.size(), bytes.length);
    }
  }

  private void forwardQueued() {
    int leaderId = replica.leaderId();
    if (leaderId < 0 || leaderId == cluster.selfId() || !proposals.hasQueued()) {
      return; // no leader known yet: keep them queued until one is, or until they time out
    }
    List<Txn> txns = proposals.drainForForwarding();
    for (int from = 0; from < txns.size(); from += config.batchTxnsMax()) {
      List<Txn> part = txns.subList(from, Math.min(txns.size(), from + config.batchTxnsMax()));
      effects.send(leaderId, envelope()
          .setForward(ForwardTxns.newBuilder().addAllTxns(part)).build());
    }
  }

  /**
   * Applies one decided slot. Each Txn's zxid is its position in the decided sequence; a new
   * session's id is the zxid that created it. Identical on every replica.
   */
  private void applyEntry(Entry e) throws IOException {
    appliedSlot = e.slot();
    if (replica != null) { // null while the log is replayed at start, before anyone can ask
      publishProgress(); // before any answer: a Status after it shows this slot committed and applied
    }
    if (e.value().length == 0) {
      return; // a no-op filling a gap after a leader change
    }
    if (Membership.isConfigValue(e.value())) {
      applyMembership(e.slot(), Membership.decode(e.value()));
      return;
    }
    // A batch this leader proposed is decided as the very array it proposed: apply the batch it
    // built instead of parsing its own bytes back (a copy of every Txn and payload per write).
    TxnBatch batch = proposedBatches.remove(e.value());
    if (batch == null) {
      try {
        batch = TxnBatch.parseFrom(e.value());
      } catch (InvalidProtocolBufferException corrupt) {
        throw new IllegalStateException("decided slot " + e.slot() + " does not hold a TxnBatch", corrupt);
      }
    }
    if (batch.getClusterId() != 0) {
      // The first id decided in the log is the cluster's; a later one (proposed by a leader that
      // did not know it yet) changes nothing, on every replica alike.
      adoptClusterId(batch.getClusterId(), "decided in its log at slot " + e.slot());
    }
    for (Txn decided : batch.getTxnsList()) {
      long zxid = state.lastZxid() + 1;
      Txn.Builder b = decided.toBuilder().setZxid(zxid);
      if (batch.getTimeMs() != 0) {
        b.setTimeMs(batch.getTimeMs()); // else a batch of an older version: each Txn has its own
      }
      if (b.hasCreateSession()) {
        b.setSessionId(zxid);
      }
      Txn txn = b.build();
      appliedObserver.accept(txn);
      var local = proposals.takeApplied(txn);
      state.apply(txn, response -> {
        // Session liveness follows what the log decided, here and nowhere else.
        if (txn.hasCreateSession() && !response.hasError()) {
          tracker.add(txn.getSessionId(), txn.getCreateSession().getTimeoutMs());
        } else if (txn.hasCloseSession() && !response.hasError()) {
          tracker.remove(txn.getSessionId());
          if (txn.getCloseSession().getExpired()) {
            effects.sessionExpired(txn.getSessionId(), txn.getZxid());
          }
        }
        if (local != null) {
          local.onApplied(txn, response);
        }
      });
      txnsSinceSnapshot++;
    }
  }

  /**
   * A membership decided at {@code slot}: stored in the tree as the system node (a Txn like any
   * other, with the next zxid and the decided time, so every replica reaches the same state and
   * snapshots and backups carry it), then followed by the transport and the quorum contact.
   */
  private void applyMembership(long slot, Membership m) {
    Txn txn = Txn.newBuilder()
        .setZxid(state.lastZxid() + 1)
        .setTimeMs(state.lastTimeMs())
        .setSetMembers(SetMembersTxn.newBuilder()
            .setMembers(UnsafeByteOperations.unsafeWrap(MembersNode.encode(m))))
        .build();
    appliedObserver.accept(txn);
    state.apply(txn, response -> {
      if (response.hasError()) {
        effects.notice("server " + cluster.selfId() + ": the membership decided at slot " + slot
            + " could not be stored (" + response.getError().getMessage() + "); it governs, but a"
            + " restart will not know it until it is decided again");
      }
    });
    txnsSinceSnapshot++;
    effects.notice("server " + cluster.selfId() + ": membership " + m + " decided at slot " + slot);
    membershipKnown(m);
    if (replica != null) {
      publishStatus(); // ListMembers and Status show it from now on
      memberChanges.applied(m, replica.leaderId());
    }
  }

  /** Transport and quorum contact follow a membership decided or restored. */
  private void membershipKnown(Membership m) {
    quorumContact.voters(m.voters());
    effects.membershipChanged(m, false);
  }

  /** The membership stored in the (restored) state, or null: never decided, or unreadable. */
  private Membership storedMembership() {
    try {
      return MembersNode.read(state).orElse(null);
    } catch (IllegalArgumentException e) {
      effects.notice("server " + cluster.selfId() + ": ignoring " + dev.synod.server.state.Paths.MEMBERS
          + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * An operator's change (membership or leadership): only the leader makes it; it is answered
   * once decided and applied here, or at its deadline.
   */
  private void changeMembers(MemberChange c) {
    Membership current = replica.membership();
    int leaderId = replica.leaderId();
    if (!replica.isLeader()) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.NOT_LEADER,
          "server " + cluster.selfId() + " is not the leader; " + (leaderId < 0 ? "no leader is known"
              : "server " + leaderId + " is (peer address " + leaderAddress(leaderId) + ")"),
          current, leaderId));
      return;
    }
    if (!memberChanges.hasRoom()) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.BUSY, "a change is in progress",
          current, leaderId));
      return;
    }
    MemberChanges.Request r = c.request();
    if (r.kind() == MemberChanges.Kind.TRANSFER) {
      transferLeadership(c, current);
      return;
    }
    Membership next;
    try {
      next = MemberChanges.next(current, r, replica.status(), cluster.selfId(), cluster.peerAddresses());
    } catch (MemberChanges.Refused refused) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.REFUSED, refused.getMessage(),
          current, leaderId));
      return;
    }
    switch (replica.proposeMembership(next)) {
      case PROPOSED -> {
        effects.membershipChanged(next, true); // the leader replicates to new members at once
        memberChanges.awaitMembership(next, c.done(), c.deadlineNanos());
      }
      case BUSY -> c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.BUSY,
          "a change is in progress (a membership not yet decided, or a leadership transfer); retry",
          current, leaderId));
      case REFUSED -> c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.REFUSED,
          replica.lastRefusal(), current, leaderId));
      case NOT_LEADER -> c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.NOT_LEADER,
          "server " + cluster.selfId() + " is not the leader", current, replica.leaderId()));
    }
  }

  private void transferLeadership(MemberChange c, Membership current) {
    int target = c.request().id();
    int self = cluster.selfId();
    if (target == self) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.OK,
          "server " + self + " leads already", current, self));
      return;
    }
    if (!current.isVoter(target)) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.REFUSED, "server " + target + " is "
          + (current.contains(target) ? "a " + MembersNode.roleName(current.roleOf(target)) : "not a member")
          + ": leadership goes to a voter", current, self));
      return;
    }
    if (!replica.transferLeadership(target)) {
      c.done().accept(new MemberChanges.Outcome(MemberChanges.Code.BUSY,
          "a change is in progress (a membership not yet decided, or a leadership transfer); retry",
          current, self));
      return;
    }
    memberChanges.awaitLeader(target, c.done(), c.deadlineNanos());
  }

  private String leaderAddress(int id) {
    String a = replica.membership().addressOf(id);
    return a.isEmpty() ? cluster.peerAddresses().getOrDefault(id, "unknown") : a;
  }

  // -----------------------------------------------------------------------------------------------
  // Reads and liveness

  private boolean requestReadIndex(long readId) {
    if (replica.isLeader()) {
      replica.requestRead(readId);
      return true;
    }
    int leaderId = replica.leaderId();
    if (leaderId < 0 || leaderId == cluster.selfId()) {
      return false;
    }
    effects.send(leaderId, envelope()
        .setReadIndex(ReadIndexRequest.newBuilder().setReadId(readId)).build());
    return true;
  }

  private void replyReadIndex(int follower, long theirReadId, boolean ok, long index) {
    effects.send(follower, envelope()
        .setReadIndexReply(ReadIndexReply.newBuilder().setReadId(theirReadId).setOk(ok).setIndex(index))
        .build());
  }

  /**
   * A follower tells the leader which sessions its clients kept alive, even none: the
   * acknowledgement is also how it measures its contact with the leader.
   */
  private void relayLiveness() {
    int leaderId = replica.leaderId();
    if (replica.isLeader() || leaderId < 0 || leaderId == cluster.selfId()) {
      tracker.drainTouched(); // the leader's own tracker is already up to date
      return;
    }
    effects.send(leaderId, envelope().setLiveness(liveness.report(leaderId)).build());
  }

  // -----------------------------------------------------------------------------------------------
  // Snapshots

  /** Every snapshot-every-txns applied Txns: copy the state here, write it in the background. */
  private void maybeSnapshot() {
    if (snapshotInProgress || fetchingSnapshot || txnsSinceSnapshot < config.snapshotEveryTxns()) {
      return;
    }
    snapshotInProgress = true;
    txnsSinceSnapshot = 0;
    effects.writeSnapshot(state.snapshot().withSlot(appliedSlot));
  }

  /**
   * The loop's own snapshot is on disk, or was not stored because a newer one (fetched from the
   * leader meanwhile) already was: either way the next one may start.
   */
  private void snapshotWritten(long slot, boolean stored) throws IOException {
    snapshotInProgress = false;
    if (!stored || (!keptSnapshotSlots.isEmpty() && keptSnapshotSlots.peekLast() >= slot)) {
      return;
    }
    keepSnapshot(slot);
    replica.compact(slot);
    if (keptSnapshotSlots.size() == SNAPSHOTS_KEPT) {
      // Falling back to the older kept snapshot must still find every slot after it.
      long oldestKept = keptSnapshotSlots.peekFirst();
      logUpkeep(() -> log.truncateCoveredBy(oldestKept));
    }
  }

  private void keepSnapshot(long slot) {
    keptSnapshotSlots.add(slot);
    while (keptSnapshotSlots.size() > SNAPSHOTS_KEPT) {
      keptSnapshotSlots.poll();
    }
  }

  /** This follower is behind the leader's compacted log: fetch and install its snapshot. */
  private void fetchSnapshot(long minSlot) {
    // The leader's, or with no leader known the member that said our entries are compacted: the
    // one behind may be the only one that can lead (a sole voter that missed its peers' removal).
    int source = replica.snapshotSource();
    if (fetchingSnapshot || source < 0 || source == cluster.selfId()) {
      return;
    }
    fetchingSnapshot = true;
    effects.fetchSnapshot(source, minSlot, clusterId);
  }

  /**
   * A fetched snapshot is durable in the store. Installed unless this server has meanwhile
   * applied as far (it caught up from the log) or leads (a leader is never behind its own log):
   * then it is simply not needed; the store keeps the newer of what it holds.
   */
  private void installSnapshot(Snapshot s) throws IOException {
    fetchingSnapshot = false;
    if (s.slot() <= appliedSlot || replica.isLeader()) {
      return;
    }
    state.restore(s);
    appliedSlot = s.slot();
    txnsSinceSnapshot = 0;
    keepSnapshot(s.slot());
    logUpkeep(() -> log.snapshotInstalled(s.slot()));
    Membership carried = storedMembership();
    replica.snapshotInstalled(s.slot(), carried);
    membershipKnown(replica.membership());
    publishStatus();
    for (StateMachine.SessionInfo session : state.sessions()) {
      tracker.add(session.id(), session.timeoutMs());
    }
    effects.snapshotInstalled(s.slot());
    // Streams on this server may have missed events the snapshot skipped: make them resume
    // (clients re-register watches from the last zxid they saw, or get RESYNC_NEEDED).
    onSnapshotInstalled.run();
  }

  // -----------------------------------------------------------------------------------------------
  // Cluster identity

  /**
   * A leader that does not know its cluster's id proposes one: a new cluster decides its id
   * through its log. Once per leadership; if it is not decided, the next leader proposes again.
   */
  private void proposeClusterIdIfUnknown() {
    if (identity.known() || clusterIdProposed) {
      return;
    }
    long id = 0;
    while (id == 0) {
      id = secrets.nextLong();
    }
    clusterIdProposed = replica.propose(TxnBatch.newBuilder().setClusterId(id).build().toByteArray());
  }

  /** Records the cluster id, if this member does not know one yet (it never changes once known). */
  private void adoptClusterId(long id, String how) throws IOException {
    if (id == 0 || identity.known()) {
      return;
    }
    ClusterIdentity known = identity.withId(id);
    logUpkeep(() -> log.recordClusterIdentity(known));
    identity = known;
    clusterId = id;
    effects.notice("server " + cluster.selfId() + " belongs to cluster " + identity.idText()
        + " (" + how + ")");
  }

  // -----------------------------------------------------------------------------------------------
  // Status (any thread)

  /**
   * How fresh this server's contact with the leader is (any thread): a leader's last majority
   * contact, a follower's last acknowledged liveness report; a cluster of one always leads.
   */
  public WritePipeline.LeaderContact leaderContact() {
    if (cluster.isSingleNode()) {
      return new WritePipeline.LeaderContact(true, 0); // leads from its start
    }
    if (leader) {
      return new WritePipeline.LeaderContact(true, quorumContact.ageNanos(clock.monoNanos()));
    }
    return new WritePipeline.LeaderContact(false, tracker.leaderAckAgeNanos());
  }

  /** This member's cluster id, 0 while unknown. */
  public long clusterId() {
    return clusterId;
  }

  public boolean isLeader() {
    return leader;
  }

  /** A copy of the state, at {@link #appliedSlot()}, for a snapshot once the loop has stopped. */
  Snapshot stateAtStop() {
    return state.snapshot();
  }

  public long appliedSlot() {
    return appliedSlot;
  }

  /**
   * The consensus module's view, refreshed every tick, on leadership and membership changes, and
   * with every slot applied (before its answers go out).
   */
  public Replica.Status status() {
    return lastStatus.consensus();
  }

  /** {@link #status()} with the slot applied when it was taken: never a commit behind the apply. */
  public StatusView statusView() {
    return lastStatus;
  }

  /** The module's view and the slot this member had applied when it was taken. */
  public record StatusView(Replica.Status consensus, long appliedSlot) {}

  /** Why the loop stopped, or null while it runs. */
  public String stopped() {
    return stopped;
  }

  // For the simulator's checks (stepping thread only).

  int queuedWrites() {
    return proposals.pendingCount();
  }

  Replica replica() {
    return replica;
  }
}
