package dev.synod.server.sim;

import dev.synod.consensus.DurableState;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.ClusterTime;
import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ReplicaEffects;
import dev.synod.server.replication.ReplicaEvent;
import dev.synod.server.replication.ReplicaLoop;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One member of the whole-server simulation: the server's real replica loop, state machine,
 * session tracker and housekeeper over a {@link SimDisk}, a {@link SimClock} and the simulator's
 * network. Everything runs on the simulator's one thread; events the real runner would queue are
 * scheduled on the simulator's agenda instead.
 */
final class SimServer implements ReplicaEffects, WritePipeline {
  /** What the member needs from the simulator. */
  interface World {
    void send(int from, int to, PeerEnvelope envelope);

    /** Runs {@code action} on the simulator's thread after {@code delayNanos}. */
    void schedule(long delayNanos, Runnable action);

    /** A snapshot of the leader's current state for a fetch, or empty if it cannot give one now. */
    Optional<Snapshot> snapshotOf(int from, int leaderId, long minSlot);

    long jobDelayNanos();

    boolean damageSnapshot();

    /** The cluster id member {@code id} knows (0: none yet, or it is down). */
    long clusterIdOf(int id);

    /** Every Txn this member applies, in order: for the agreement and time checks. */
    void applied(int id, Txn txn);

    /** The member stopped on its own (a storage failure, or a bug). */
    void halted(int id, String why, Throwable cause);
  }

  final int id;
  final SimClock clock;
  final SimDisk disk = new SimDisk();
  private final ServerConfig config;
  private final ClusterConfig cluster;
  private final World world;
  private final SplittableRandom random;
  private ReplicaLoop loop;
  private StateMachine state;
  private SessionTracker tracker;
  private Housekeeper housekeeper;
  /** Bumped at each start, so completions of a previous life are recognised and dropped. */
  private int life;
  private boolean firstStart = true;

  SimServer(int id, ServerConfig config, ClusterConfig cluster, SimClock clock, World world, long seed) {
    this.id = id;
    this.config = config;
    this.cluster = cluster;
    this.clock = clock;
    this.world = world;
    this.random = new SplittableRandom(seed);
  }

  boolean isUp() {
    return loop != null;
  }

  /** Recovers from the disk and starts, as a process start does. */
  void start() {
    life++;
    state = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    tracker = new SessionTracker(clock);
    // A member's first start founds the cluster with the others; a wiped one restarts as a joiner.
    disk.prepare(firstStart ? ClusterIdentity.founder() : ClusterIdentity.joiner());
    firstStart = false;
    Optional<Snapshot> snapshot = disk.loadSnapshot();
    DurableState durable = disk.recover(snapshot.map(Snapshot::slot).orElse(0L), disk.identity().founding());
    int started = life;
    ClusterTime clusterTime = new ClusterTime(clock, state::lastTimeMs);
    try {
      loop = new ReplicaLoop(config, cluster, state, tracker, disk, this, clock, clusterTime,
          new SplittableRandom(random.nextLong()), disk.identity(), snapshot, durable, () -> { });
    } catch (IOException e) {
      throw new IllegalStateException("the simulated disk cannot fail outside a sync", e);
    }
    loop.observeApplied(txn -> {
      if (life == started) {
        world.applied(id, txn);
      }
    });
    housekeeper = new Housekeeper(tracker, state, this, clusterTime, config.housekeepingIntervalMs());
  }

  /** kill -9: everything in memory is gone, and what the disk had not synced. */
  void crash() {
    loop = null;
    state = null;
    tracker = null;
    housekeeper = null;
    disk.crash();
  }

  /** Steps one event; a member that is down ignores it (its waiters are answered by nobody). */
  void step(ReplicaEvent event) {
    if (loop == null) {
      return;
    }
    try {
      loop.step(event);
    } catch (IOException storage) {
      crash(); // a storage failure stops the server; it never limps on
      world.halted(id, "storage failure", storage);
    } catch (RuntimeException bug) {
      crash();
      world.halted(id, "the replica loop threw", bug);
    }
  }

  void tick() {
    step(new ReplicaEvent.Tick(clock.monoNanos()));
  }

  void housekeeping() {
    if (housekeeper != null) {
      housekeeper.round();
    }
  }

  StateMachine state() {
    return state;
  }

  SessionTracker tracker() {
    return tracker;
  }

  ReplicaLoop loop() {
    return loop;
  }

  // -----------------------------------------------------------------------------------------------
  // ReplicaEffects

  @Override
  public void send(int to, PeerEnvelope envelope) {
    world.send(id, to, envelope);
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) {
    boolean damage = world.damageSnapshot();
    // The write takes a while; a crash before it ends loses it.
    inThisLife(world.jobDelayNanos(), () ->
        step(new ReplicaEvent.SnapshotWritten(snapshot.slot(), disk.storeSnapshot(snapshot, damage))));
  }

  @Override
  public void fetchSnapshot(int leaderId, long minSlot, long clusterId) {
    inThisLife(world.jobDelayNanos(), () -> {
      Optional<Snapshot> fetched = world.snapshotOf(id, leaderId, minSlot);
      long theirs = world.clusterIdOf(leaderId);
      if (fetched.isPresent() && ReplicaEvent.isForeign(theirs, clusterId)) {
        fetched = Optional.empty(); // a snapshot of another cluster is refused
      }
      if (fetched.isEmpty()) {
        step(new ReplicaEvent.SnapshotFetchFailed("the leader could not give a snapshot"));
        return;
      }
      disk.storeSnapshot(fetched.get(), false); // durable before the loop hears of it
      step(new ReplicaEvent.SnapshotFetched(fetched.get(), theirs));
    });
  }

  @Override
  public void notice(String line) {}

  /** Runs {@code action} later, unless this member crashed meanwhile. */
  private void inThisLife(long delayNanos, Runnable action) {
    int started = life;
    world.schedule(delayNanos, () -> {
      if (life == started && loop != null) {
        action.run();
      }
    });
  }

  // -----------------------------------------------------------------------------------------------
  // WritePipeline (for the housekeeper and the simulated clients: posts to the loop)

  @Override
  public void submit(Txn.Builder txn, Applied onApplied) {
    long deadline = clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(config.writeTimeoutMs());
    inThisLife(0, () -> step(new ReplicaEvent.ClientWrite(txn, onApplied, deadline)));
  }

  @Override
  public void barrier(BarrierDone done) {
    long deadline = clock.monoNanos() + TimeUnit.MILLISECONDS.toNanos(config.writeTimeoutMs());
    inThisLife(0, () -> step(new ReplicaEvent.Barrier(done, deadline)));
  }

  @Override
  public boolean isLeader() {
    return loop != null && loop.isLeader();
  }

  @Override
  public LeaderContact leaderContact() {
    return loop == null ? new LeaderContact(false, Long.MAX_VALUE) : loop.leaderContact();
  }

  /** Delivers a peer's envelope, through the same decoding the real peer service uses. */
  void receive(PeerEnvelope envelope) {
    ReplicaEvent event = ReplicaEvent.fromPeer(envelope, cluster, loop == null ? 0 : loop.clusterId());
    if (event != null) {
      step(event);
    }
  }
}
