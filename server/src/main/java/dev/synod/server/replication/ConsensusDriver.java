package dev.synod.server.replication;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MemberStatus;
import dev.synod.api.v1.StatusResponse;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
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
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives the consensus module for this server: the one loop that steps it, sends a leader's
 * Accepts, persists what it asks (one fsync per round), sends its other messages, and applies
 * decided slots to the state machine, in that order. It is the server's {@link WritePipeline}: writes are queued here,
 * packed into slot values by the leader (which stamps their time) or forwarded to the leader by
 * a follower, and answered when applied on this server. A single server is a cluster of one on
 * the very same path.
 *
 * <p>Everything below runs on the consensus thread, except the methods that post to it.
 */
public final class ConsensusDriver implements WritePipeline, AutoCloseable {
  /** Events queued for the consensus thread; beyond this, peers' messages are dropped. */
  static final int EVENTS_MAX = 100_000;
  /** Consensus ticks between barrier retries. */
  static final int RELAY_EVERY_TICKS = 10;
  /**
   * Consensus ticks between a follower's liveness reports to the leader (sessions: their
   * acknowledgements measure the follower's contact with the leader, so they come often).
   */
  static final int LIVENESS_EVERY_TICKS = 2;
  /** Syncs in flight at once. */
  static final int BARRIERS_MAX = 10_000;

  private final ServerConfig config;
  private final ClusterConfig cluster;
  private final DurableStore store;
  private final StateMachine state;
  private final SessionTracker tracker;
  private final PeerTransport transport;
  private final Clock clock;
  private final FatalHandler fatal;
  private final Runnable onSnapshotInstalled;
  private final AcceptorLog acceptorLog;
  private final Proposals proposals;
  private final ReadBarriers barriers = new ReadBarriers(BARRIERS_MAX);
  // sessions: what confirming a session to its client needs from the replication loop
  private final QuorumContact quorumContact;
  private final LivenessReports liveness;
  private final BlockingQueue<Runnable> events = new LinkedBlockingQueue<>(EVENTS_MAX);
  private final AtomicInteger pendingWrites = new AtomicInteger();
  private final SecureRandom secrets = new SecureRandom();
  private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-snapshot");
    t.setDaemon(true);
    return t;
  });
  private final Thread thread;

  private Replica replica;
  private volatile boolean running;
  private volatile boolean leader;
  private int lastLeaderId = -1;
  private volatile Replica.Status lastStatus;
  private volatile long appliedSlot;
  private long lastTimeMs;
  private long ticks;
  private long txnsSinceSnapshot;
  private boolean snapshotInProgress;
  private boolean fetchingSnapshot;
  private final ArrayDeque<Long> keptSnapshotSlots = new ArrayDeque<>();

  public ConsensusDriver(
      ServerConfig config,
      ClusterConfig cluster,
      DurableStore store,
      StateMachine state,
      SessionTracker tracker,
      PeerTransport transport,
      Clock clock,
      FatalHandler fatal,
      Runnable onSnapshotInstalled) {
    this.config = config;
    this.cluster = cluster;
    this.store = store;
    this.state = state;
    this.tracker = tracker;
    this.transport = transport;
    this.clock = clock;
    this.fatal = fatal;
    this.onSnapshotInstalled = onSnapshotInstalled;
    this.acceptorLog = new AcceptorLog(store);
    this.proposals = new Proposals(cluster.selfId(), config.pendingWritesMax());
    this.quorumContact = new QuorumContact(cluster.memberIds(), cluster.selfId()); // sessions
    this.liveness = new LivenessReports(cluster.selfId(), tracker); // sessions
    this.thread = new Thread(this::run, "synod-consensus");
    this.thread.setDaemon(true);
  }

  // -----------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Recovers the state (newest snapshot, then every slot the log says is decided) and starts the
   * consensus loop.
   *
   * @throws IOException when the data cannot be read or trusted
   */
  public void start() throws IOException {
    Optional<Snapshot> snapshot = store.loadSnapshot();
    snapshot.ifPresent(state::restore);
    long snapshotSlot = snapshot.map(Snapshot::slot).orElse(0L);
    snapshot.ifPresent(s -> keptSnapshotSlots.add(s.slot()));
    appliedSlot = snapshotSlot;
    DurableState durable = acceptorLog.recover(snapshotSlot);
    for (Entry e : durable.accepted().headMap(durable.commitIndex() + 1).values()) {
      applyEntry(e);
    }
    for (StateMachine.SessionInfo s : state.sessions()) {
      tracker.add(s.id(), s.timeoutMs());
    }
    ReplicaConfig defaults = ReplicaConfig.of(cluster.selfId(), cluster.memberIds());
    ReplicaConfig replicaConfig = new ReplicaConfig(cluster.selfId(), cluster.memberIds(),
        config.electionTicksMin(), config.electionTicksMax(), config.heartbeatTicks(),
        config.inflightSlotsMax(), defaults.catchupEntriesMax(), defaults.messageEntriesMax());
    replica = new Replica(replicaConfig, durable, RandomSource.seeded(secrets.nextLong()));
    lastStatus = replica.status();
    running = true;
    thread.start();
  }

  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    background.shutdown();
    try {
      background.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // -----------------------------------------------------------------------------------------------
  // WritePipeline (any thread)

  @Override
  public void submit(Txn.Builder txn, Applied onApplied) throws SynodException {
    if (pendingWrites.get() >= config.pendingWritesMax()) {
      throw new SynodException(ErrorReason.OVERLOADED, "write queue is full ("
          + pendingWrites.get() + " pending); retry with backoff");
    }
    long deadline = clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(config.writeTimeoutMs());
    pendingWrites.incrementAndGet();
    Applied counted = (t, r) -> {
      pendingWrites.decrementAndGet();
      onApplied.onApplied(t, r);
    };
    post(() -> {
      Txn stamped = txn.setOrigin(proposals.nextOrigin()).build();
      try {
        proposals.addLocal(stamped, counted, deadline);
      } catch (SynodException e) {
        counted.onApplied(stamped, dev.synod.api.v1.Response.newBuilder()
            .setRequestNo(stamped.getRequestNo()).setError(e.toError()).build());
      }
    }, () -> pendingWrites.decrementAndGet());
  }

  @Override
  public void barrier(BarrierDone done) throws SynodException {
    long deadline = clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(config.writeTimeoutMs());
    post(() -> {
      try {
        barriers.add(done, proposals.lastOrigin(), deadline, this::requestReadIndex);
      } catch (SynodException e) {
        done.done(0, e.toError());
      }
    }, () -> {});
  }

  @Override
  public boolean isLeader() {
    return leader;
  }

  // sessions: one read of the role, then the matching measure (each is a safe bound either way)
  @Override
  public LeaderContact leaderContact() {
    if (cluster.isSingleNode()) {
      return new LeaderContact(true, 0); // leads from its start (the flag is set a pump later)
    }
    if (leader) {
      return new LeaderContact(true, quorumContact.ageNanos(clock.monoNanos()));
    }
    return new LeaderContact(false, tracker.leaderAckAgeNanos());
  }

  private void post(Runnable event, Runnable onRefused) throws SynodException {
    if (!running) {
      onRefused.run();
      throw new SynodException(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
    }
    if (!events.offer(event)) {
      onRefused.run();
      throw new SynodException(ErrorReason.OVERLOADED, "the consensus queue is full; retry with backoff");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // From peers (gRPC threads)

  /** Something a peer sent; malformed or unexpected input is dropped, never fatal. */
  void receive(PeerEnvelope envelope) {
    int from = envelope.getFrom();
    if (!cluster.peerAddresses().containsKey(from) || from == cluster.selfId()) {
      return;
    }
    switch (envelope.getBodyCase()) {
      case CONSENSUS -> {
        Message m;
        try {
          m = MessageCodec.decode(envelope.getConsensus().toByteArray());
        } catch (IllegalArgumentException malformed) {
          return;
        }
        events.offer(() -> {
          replica.step(m);
          quorumContact.received(m); // sessions
        });
      }
      case FORWARD -> events.offer(() -> proposals.addForwarded(envelope.getForward().getTxnsList()));
      // sessions: only a leader refreshes reported sessions, and it says so in its acknowledgement
      case LIVENESS -> events.offer(() -> {
        if (replica.isLeader()) {
          transport.send(from, liveness.answer(envelope.getLiveness(), quorumContact.ageNanos(clock.monoNanos())));
        }
      });
      case LIVENESS_ACK -> liveness.acknowledged(from, envelope.getLivenessAck()); // sessions
      case READ_INDEX -> events.offer(() -> {
        if (replica.isLeader()) {
          replica.requestRead(barriers.addRemote(from, envelope.getReadIndex().getReadId()));
        } else {
          replyReadIndex(from, envelope.getReadIndex().getReadId(), false, 0);
        }
      });
      case READ_INDEX_REPLY -> events.offer(() -> {
        ReadIndexReply r = envelope.getReadIndexReply();
        barriers.onIndex(r.getReadId(), r.getOk(), r.getIndex(), this::replyReadIndex);
      });
      case BODY_NOT_SET -> { }
    }
  }

  /** A snapshot of the current state for a follower, made on the consensus thread. */
  Snapshot snapshotForTransfer(long minSlot) throws InterruptedException {
    CompletableFuture<Snapshot> result = new CompletableFuture<>();
    if (!events.offer(() -> result.complete(state.snapshot().withSlot(appliedSlot)))) {
      throw new IllegalStateException("the leader is overloaded; retry the snapshot fetch");
    }
    try {
      Snapshot s = result.get(30, TimeUnit.SECONDS);
      if (s.slot() < minSlot) {
        throw new IllegalStateException("this server has applied only up to slot " + s.slot());
      }
      return s;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("could not take a snapshot: " + e);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // The loop (consensus thread)

  private void run() {
    long tickNanos = TimeUnit.MILLISECONDS.toNanos(config.tickMs());
    long nextTick = clock.monoNanos() + tickNanos;
    try {
      while (running) {
        long wait = nextTick - clock.monoNanos();
        Runnable event = wait > 0 ? events.poll(wait, TimeUnit.NANOSECONDS) : events.poll();
        int handled = 0;
        while (event != null) {
          event.run();
          if (++handled >= 10_000) {
            break;
          }
          event = events.poll();
        }
        long now = clock.monoNanos();
        if (now - nextTick >= 0) {
          tick(now);
          nextTick = Math.max(nextTick + tickNanos, now);
        }
        pump();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      failStorage(e);
      return;
    } catch (RuntimeException | Error e) {
      fatal.fatal("consensus loop failed", e);
      return;
    }
    proposals.failAll(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
    barriers.failAll(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
  }

  private void tick(long now) {
    replica.tick();
    ticks++;
    lastStatus = replica.status(); // for the Status call: once a tick is fresh enough
    proposals.expire(now);
    if (ticks % RELAY_EVERY_TICKS == 0) {
      barriers.retryOrExpire(now, this::requestReadIndex);
    }
    if (ticks % LIVENESS_EVERY_TICKS == 0) {
      relayLiveness(); // sessions
    }
  }

  /** Proposes or forwards queued writes, then works through everything the module produced. */
  private void pump() throws IOException {
    boolean leading = replica.isLeader();
    int leaderId = replica.leaderId();
    if (leaderId != lastLeaderId || leading != leader) {
      lastStatus = replica.status();
    }
    if (leaderId != lastLeaderId) {
      if (lastLeaderId >= 0) {
        long grace = TimeUnit.MILLISECONDS.toNanos(config.tickMs() * config.electionTicksMax());
        proposals.leaderChanged(clock.monoNanos() + grace);
      }
      lastLeaderId = leaderId;
    }
    if (leading != leader) {
      leader = leading;
      if (leading) {
        // A new leader gives every session a full timeout: it has not heard their heartbeats.
        for (StateMachine.SessionInfo s : state.sessions()) {
          tracker.add(s.id(), s.timeoutMs());
        }
      }
    }
    if (leading) {
      proposeQueued();
    } else {
      forwardQueued();
    }
    while (replica.hasReady()) {
      Replica.Ready ready = replica.ready();
      // A leader's Accepts go out before its own fsync, so the followers' fsync overlaps it.
      sendAll(ready.sendBeforePersist());
      acceptorLog.persist(ready);
      sendAll(ready.sendAfterPersist());
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
      replica.advance();
      if (replica.isLeader()) {
        proposeQueued();
      }
    }
    barriers.complete(appliedSlot, state.lastZxid(), proposals);
    maybeSnapshot();
  }

  private void sendAll(List<Message> messages) {
    long now = clock.monoNanos(); // sessions
    for (Message m : messages) {
      quorumContact.sent(m, now); // sessions
      transport.send(m.to(), PeerEnvelope.newBuilder().setFrom(cluster.selfId())
          .setConsensus(ByteString.copyFrom(MessageCodec.encode(m))).build());
    }
  }

  private void proposeQueued() {
    while (proposals.hasQueued()) {
      List<Txn> batch = proposals.takeBatch(config.batchTxnsMax(), config.batchBytesMax());
      // Never let stamped time go backwards, even if the wall clock does.
      lastTimeMs = Math.max(lastTimeMs, clock.wallMs());
      TxnBatch.Builder value = TxnBatch.newBuilder();
      for (Txn txn : batch) {
        Txn.Builder stamped = txn.toBuilder().setTimeMs(lastTimeMs);
        if (stamped.hasCreateSession()) {
          stamped.getCreateSessionBuilder().setSecret(secrets.nextLong());
        }
        value.addTxns(stamped);
      }
      if (!replica.propose(value.build().toByteArray())) {
        proposals.putBack(batch);
        return;
      }
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
      transport.send(leaderId, PeerEnvelope.newBuilder().setFrom(cluster.selfId())
          .setForward(ForwardTxns.newBuilder().addAllTxns(part)).build());
    }
  }

  /**
   * Applies one decided slot. Each Txn's zxid is its position in the decided sequence; a new
   * session's id is the zxid that created it. Identical on every replica.
   */
  private void applyEntry(Entry e) {
    appliedSlot = e.slot();
    if (e.value().length == 0) {
      return; // a no-op filling a gap after a leader change
    }
    TxnBatch batch;
    try {
      batch = TxnBatch.parseFrom(e.value());
    } catch (InvalidProtocolBufferException corrupt) {
      throw new IllegalStateException("decided slot " + e.slot() + " does not hold a TxnBatch", corrupt);
    }
    for (Txn decided : batch.getTxnsList()) {
      long zxid = state.lastZxid() + 1;
      Txn.Builder b = decided.toBuilder().setZxid(zxid);
      if (b.hasCreateSession()) {
        b.setSessionId(zxid);
      }
      Txn txn = b.build();
      Applied local = proposals.isLocal(txn.getOrigin()) ? proposals.takeApplied(txn.getOrigin()) : null;
      state.apply(txn, response -> {
        if (txn.hasCreateSession() && !response.hasError()) {
          tracker.add(txn.getSessionId(), txn.getCreateSession().getTimeoutMs());
        }
        if (local != null) {
          local.onApplied(txn, response);
        }
      });
      txnsSinceSnapshot++;
    }
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
    transport.send(leaderId, PeerEnvelope.newBuilder().setFrom(cluster.selfId())
        .setReadIndex(ReadIndexRequest.newBuilder().setReadId(readId)).build());
    return true;
  }

  private void replyReadIndex(int follower, long theirReadId, boolean ok, long index) {
    transport.send(follower, PeerEnvelope.newBuilder().setFrom(cluster.selfId())
        .setReadIndexReply(ReadIndexReply.newBuilder().setReadId(theirReadId).setOk(ok).setIndex(index))
        .build());
  }

  /**
   * A follower tells the leader which sessions its clients kept alive (sessions: even none, since
   * the acknowledgement is also how it measures its contact with the leader).
   */
  private void relayLiveness() {
    int leaderId = replica.leaderId();
    if (replica.isLeader() || leaderId < 0 || leaderId == cluster.selfId()) {
      tracker.drainTouched(); // the leader's own tracker is already up to date
      return;
    }
    transport.send(leaderId, liveness.report(leaderId));
  }

  // -----------------------------------------------------------------------------------------------
  // Snapshots

  /** Every snapshot-every-txns applied Txns: copy the state here, write it in the background. */
  private void maybeSnapshot() {
    if (snapshotInProgress || txnsSinceSnapshot < config.snapshotEveryTxns()) {
      return;
    }
    snapshotInProgress = true;
    txnsSinceSnapshot = 0;
    Snapshot snapshot = state.snapshot().withSlot(appliedSlot);
    background.execute(() -> {
      try {
        store.writeSnapshot(snapshot);
      } catch (IOException | RuntimeException e) {
        fatal.fatal("snapshot at slot " + snapshot.slot() + " failed", e);
        return;
      }
      events.offer(() -> snapshotWritten(snapshot.slot()));
    });
  }

  private void snapshotWritten(long slot) {
    snapshotInProgress = false;
    keptSnapshotSlots.add(slot);
    while (keptSnapshotSlots.size() > 2) {
      keptSnapshotSlots.poll();
    }
    replica.compact(slot);
    if (keptSnapshotSlots.size() == 2) {
      // Falling back to the older kept snapshot must still find every slot after it.
      try {
        acceptorLog.truncateCoveredBy(keptSnapshotSlots.peekFirst());
      } catch (IOException e) {
        failStorage(e);
      }
    }
  }

  /** This follower is behind the leader's compacted log: fetch and install its snapshot. */
  private void fetchSnapshot(long minSlot) {
    int leaderId = replica.leaderId();
    if (fetchingSnapshot || leaderId < 0 || leaderId == cluster.selfId()) {
      return;
    }
    fetchingSnapshot = true;
    background.execute(() -> {
      try {
        Snapshot s = SnapshotTransfer.fetch(transport.blockingStub(leaderId), minSlot);
        store.installSnapshot(s);
        events.offer(() -> installSnapshot(s));
      } catch (IOException e) {
        fatal.fatal("installing a snapshot from server " + leaderId + " failed", e);
      } catch (RuntimeException e) {
        System.err.println("synod: snapshot fetch from server " + leaderId + " failed, will retry: " + e);
        events.offer(() -> fetchingSnapshot = false);
      }
    });
  }

  private void installSnapshot(Snapshot s) {
    fetchingSnapshot = false;
    if (s.slot() <= appliedSlot) {
      return;
    }
    state.restore(s);
    appliedSlot = s.slot();
    keptSnapshotSlots.add(s.slot());
    while (keptSnapshotSlots.size() > 2) {
      keptSnapshotSlots.poll();
    }
    acceptorLog.snapshotInstalled(s.slot());
    replica.snapshotInstalled(s.slot());
    for (StateMachine.SessionInfo session : state.sessions()) {
      tracker.add(session.id(), session.timeoutMs());
    }
    // Streams on this server may have missed events the snapshot skipped: make them resume
    // (clients re-register watches from the last zxid they saw, or get RESYNC_NEEDED).
    onSnapshotInstalled.run();
  }

  private void failStorage(IOException e) {
    running = false;
    proposals.failAll(ErrorReason.STORAGE_FAILURE, "the log could not be written: " + e);
    barriers.failAll(ErrorReason.STORAGE_FAILURE, "the log could not be written: " + e);
    fatal.fatal("log append/fsync failed", e);
  }

  // -----------------------------------------------------------------------------------------------
  // Status (any thread)

  /** Fills the cluster part of a Status answer. */
  public void describe(StatusResponse.Builder out) {
    Replica.Status s = lastStatus;
    if (s == null) {
      return;
    }
    out.setRole(s.role())
        .setLeaderId(Math.max(0, s.leaderId()))
        .setBallot(s.ballot().round() + "." + s.ballot().node())
        .setCommitSlot(s.commitIndex())
        .setAppliedSlot(appliedSlot);
    cluster.peerAddresses().forEach((id, address) -> {
      MemberStatus.Builder m = MemberStatus.newBuilder().setId(id).setAddress(address);
      Long match = s.peerMatch().get(id);
      if (match == null && id == cluster.selfId() && s.leaderId() == id) {
        match = s.lastSlot(); // the leader holds everything it has proposed
      }
      if (match != null) {
        m.setMatchSlot(match).setLagSlots(Math.max(0, s.commitIndex() - match));
      }
      out.addMembers(m);
    });
  }

  public long appliedSlot() {
    return appliedSlot;
  }
}
