package dev.synod.server.sim;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.StatusResponse;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.ClientSession;
import dev.synod.server.pipeline.ClusterTime;
import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.pipeline.ServiceContext;
import dev.synod.server.pipeline.SessionOutput;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.StreamRegistry;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ReplicaEffects;
import dev.synod.server.replication.ReplicaEvent;
import dev.synod.server.replication.ReplicaLoop;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.replication.SnapshotDownload;
import dev.synod.server.replication.SnapshotSource;
import dev.synod.server.storage.CorruptSnapshotException;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One member of the whole-server simulation: the server's real replica loop, state machine,
 * session tracker, housekeeper and client session pipeline ({@link ClientSession}, what the
 * gRPC session stream drives) over its {@link MemberDisk} (the real stores on a simulated
 * disk, or a model of them), a {@link SimClock} and the simulator's network. Everything runs on
 * the simulator's one thread; events and jobs the real runner would queue or run in the
 * background are scheduled on the simulator's agenda instead.
 */
final class SimServer implements ReplicaEffects, WritePipeline {
  /** What the member needs from the simulator. */
  interface World {
    void send(int from, int to, PeerEnvelope envelope);

    /** Runs {@code action} on the simulator's thread after {@code delayNanos}. */
    void schedule(long delayNanos, Runnable action);

    /** A snapshot of the leader's current state for a fetch, or empty if it cannot give one now. */
    Optional<Snapshot> snapshotOf(int from, int leaderId, long minSlot);

    /**
     * The leader's snapshot files as member {@code from} reaches them for a copy, with the
     * network's faults in between; null if it cannot reach them now.
     */
    SnapshotDownload.Leader snapshotLeader(int from, int leaderId);

    long jobDelayNanos();

    /** How long one log write and its fsync take. */
    long fsyncDelayNanos();

    boolean damageSnapshot();

    /** The cluster id member {@code id} knows (0: none yet, or it is down). */
    long clusterIdOf(int id);

    /** Every Txn this member applies, in order: for the agreement and time checks. */
    void applied(int id, Txn txn);

    /** The member stopped on its own (a storage failure, a recovery that refused, or a bug). */
    void halted(int id, String why, Throwable cause);
  }

  final int id;
  final SimClock clock;
  private final MemberDisk disk;
  /** The command line: `--initial-cluster-state new` until an operator replaces its disk. */
  private ServerConfig config;
  private final ClusterConfig cluster;
  /**
   * Who this process takes peer messages from: its --members, then the decided membership, as the
   * real peer transport's directory (a new process starts from --members again).
   */
  private dev.synod.server.replication.MemberDirectory directory;
  private final World world;
  private final SplittableRandom random;
  /**
   * Whether a log write runs inline or on the persist stage (the runner writes inline when
   * nothing waits for its loop): a stream of its own, so the choice takes no draw from the
   * others (a write that goes inline still moves the schedule that follows it).
   */
  private final SplittableRandom persistChoices;
  private ReplicaLoop loop;
  private StateMachine state;
  private SessionTracker tracker;
  private Housekeeper housekeeper;
  /** What the client session pipeline needs: this life's state, tracker and stream registry. */
  private ServiceContext services;
  /** Bumped at each start, so completions of a previous life are recognised and dropped. */
  private int life;
  /** Events posted to this life's loop and not yet handled (see {@link #step}). */
  private final List<ReplicaEvent> inbox = new ArrayList<>();
  private boolean drainScheduled;
  /** This life's copy of a leader's snapshot file, and its own files for followers (real stores). */
  private SnapshotDownload download;
  private SnapshotSource snapshotSource;
  /** Snapshots fetched from a leader and installed, over every life. */
  private long snapshotsInstalled;

  /** {@code realStores}: the server's real stores on a simulated disk, else a model of them. */
  SimServer(int id, ServerConfig config, ClusterConfig cluster, SimClock clock, World world,
      long seed, boolean realStores) {
    this.id = id;
    this.config = config;
    this.cluster = cluster;
    this.clock = clock;
    this.world = world;
    this.random = new SplittableRandom(seed);
    this.persistChoices = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
    this.disk = realStores ? new StoreDisk(random.nextLong()) : new SimDisk(random.nextLong());
  }

  boolean isUp() {
    return loop != null;
  }

  /**
   * Recovers from the disk and starts, as a process start does (the member's command line says
   * {@code --initial-cluster-state new}, which only an empty data directory heeds). A recovery
   * that fails (the store refuses the data, or the disk fails meanwhile) leaves the member down
   * and tells the world.
   */
  void start() {
    directory = new dev.synod.server.replication.MemberDirectory(cluster);
    life++;
    int started = life;
    StreamRegistry registry = new StreamRegistry();
    state = new StateMachine(StateLimits.defaults(), registry);
    tracker = new SessionTracker(clock);
    services = new ServiceContext(config, state, this, tracker, registry,
        StatusResponse::getDefaultInstance);
    ClusterTime clusterTime = new ClusterTime(clock, state::lastTimeMs);
    try {
      MemberDisk.Recovered r = disk.start(config, cluster);
      loop = new ReplicaLoop(config, cluster, state, tracker, r.log(), this, clock, clusterTime,
          new SplittableRandom(random.nextLong()), r.identity(), r.snapshot(), r.durable(),
          // As the server is wired: the state was replaced, so every stream must resume.
          () -> registry.disconnectAll("this server installed a snapshot from the leader"),
          // Every Txn applied, those its recovery replays from the log included.
          txn -> {
            if (life == started) {
              world.applied(id, txn);
            }
          });
    } catch (IOException e) {
      stopProcess(); // the process exits
      world.halted(id, "recovery failed", e);
      return;
    }
    housekeeper = new Housekeeper(tracker, state, this, clusterTime, config.housekeepingIntervalMs());
    if (TRACE) {
      trace("started (life " + life + "), cluster " + dev.synod.server.storage.ClusterIdentity.text(loop.clusterId())
          + ", applied through slot " + loop.appliedSlot());
    }
    download = disk.newDownload();
    snapshotSource = disk.snapshotSource(() -> state.snapshot().withSlot(loop.appliedSlot()),
        this::storageFailed);
  }

  /** This member's snapshot files for a follower's copy (null: down, or a model disk). */
  SnapshotSource snapshotSource() {
    return loop == null ? null : snapshotSource;
  }

  /** Snapshots this member fetched from a leader and installed, over all its lives. */
  long snapshotsInstalled() {
    return snapshotsInstalled;
  }

  /**
   * A crash: everything in memory is gone. {@code machine}: the machine lost power, and of what
   * was written but not synced a random part is torn away; otherwise only the process was killed
   * (kill -9), and the page cache keeps it for the next process (and for a later power loss).
   */
  void crash(boolean machine) {
    if (TRACE && loop != null) {
      trace(machine ? "crashed: power lost" : "crashed: kill -9");
    }
    if (machine) {
      disk.powerLoss();
    }
    stopProcess();
  }

  /**
   * The machine's disk is replaced (or the data directory deleted) while the process is down, and
   * the operator starts it again as a member of the existing cluster ({@code existing}'s command
   * line says {@code --initial-cluster-state existing}), as the README's procedure says.
   */
  void wipe(ServerConfig existing) {
    if (isUp()) {
      stopProcess();
    }
    disk.wipe();
    config = existing;
  }

  /** Whether the member is up and votes (it is not a wiped member waiting to be admitted). */
  boolean votes() {
    return loop != null && !loop.status().role().equals("recovering");
  }

  /** From now on, until the member stops, every fsync fails, as on a failing device. */
  void failFsyncs() {
    if (isUp()) {
      disk.failFsyncs();
    }
  }

  /**
   * The machine loses power in the middle of its {@code n}-th fsync from now, wherever that is
   * (in a write of the running member, or in the recovery of its next start).
   */
  void crashAtFsync(int n) {
    disk.crashAtFsync(n);
  }

  /** The disk faults to come are called off (the simulation's faults are over). */
  void cancelDiskFaults() {
    disk.cancelFaults();
  }

  /** The process is gone: its memory, and (as it closed nothing) its open files and lock. */
  private void stopProcess() {
    loop = null;
    inbox.clear(); // queued in memory: lost with the process
    drainScheduled = false;
    state = null;
    tracker = null;
    housekeeper = null;
    services = null;
    download = null;
    snapshotSource = null;
    disk.processDied();
  }

  /** A storage error stops the server; it never limps on. The machine stays up. */
  private void storageFailed(IOException e) {
    if (TRACE) {
      trace("stopped: storage failure: " + e);
    }
    stopProcess();
    world.halted(id, "storage failure", e);
  }

  /**
   * Queues one event for the loop, as the runner's queue does; a member that is down ignores it
   * (its waiters are answered by nobody). Events are handled in groups, as the runner handles what
   * queued up while it was busy: everything that arrives at the same instant, and, one time in
   * four, whatever else arrives within the next 300 µs (a round waiting for its fsync).
   */
  void step(ReplicaEvent event) {
    if (loop == null) {
      return;
    }
    if (TRACE && !(event instanceof ReplicaEvent.PeerMessage) && !(event instanceof ReplicaEvent.Tick)
        && !(event instanceof ReplicaEvent.Persisted)) {
      trace(event.toString());
    }
    inbox.add(event);
    if (!drainScheduled) {
      drainScheduled = true;
      long gatherNanos = random.nextInt(4) == 0 ? random.nextLong(1_000, 300_000) : 0;
      inThisLife(gatherNanos, this::drainInbox);
    }
  }

  private void drainInbox() {
    drainScheduled = false;
    List<ReplicaEvent> group = List.copyOf(inbox);
    inbox.clear();
    try {
      loop.stepAll(group);
    } catch (IOException storage) {
      storageFailed(storage);
    } catch (RuntimeException bug) {
      stopProcess();
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

  /**
   * Opens a session stream from a client to this member's current process (which must be up):
   * what the process sends on it goes to {@code toClient}.
   */
  Stream connect(SessionOutput toClient) {
    if (loop == null) {
      throw new IllegalStateException("member " + id + " is down");
    }
    return new Stream(toClient);
  }

  /**
   * A client's session stream to one life of this member, as the gRPC session stream is: what
   * arrives goes to a real {@link ClientSession}. It dies with the process; what arrives after
   * that is lost, as on a reset connection.
   */
  final class Stream {
    private final int streamLife = life;
    private final ClientSession session;

    private Stream(SessionOutput toClient) {
      // The pipeline's hop off the apply thread is a later event of this life.
      session = new ClientSession(services, toClient, dev.synod.server.auth.Identities.ANONYMOUS,
          action -> inThisLife(0, action));
    }

    boolean alive() {
      return life == streamLife && loop != null;
    }

    void receive(ClientMessage message) {
      if (alive()) {
        session.receive(message);
      }
    }
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

  /**
   * As the runner: either inline (the loop waits for its write; a failure throws out of the step
   * and stops the server as a storage failure), or on the persist stage: the write happens a
   * little later (the loop goes on meanwhile), then its completion is stepped. A crash before
   * then loses the write, as a process killed before its fsync returned does. The runner writes
   * inline when nothing is queued for its loop; here, every event of a round is stepped at once,
   * so the two are chosen at random and both stay under the simulation.
   */
  @Override
  public boolean persist(long round, LogWrite write) throws IOException {
    if (persistChoices.nextBoolean()) {
      write.run();
      return true;
    }
    inThisLife(world.fsyncDelayNanos(), () -> {
      IOException failure = null;
      try {
        write.run();
      } catch (IOException e) {
        failure = e;
      }
      step(new ReplicaEvent.Persisted(round, failure));
    });
    return false;
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) {
    boolean damage = world.damageSnapshot();
    // The write takes a while; a crash before it ends loses it.
    inThisLife(world.jobDelayNanos(), () -> {
      boolean stored;
      try {
        stored = disk.writeSnapshot(snapshot, damage); // false: one as new is there (fetched)
      } catch (IOException e) {
        storageFailed(e);
        return;
      }
      step(new ReplicaEvent.SnapshotWritten(snapshot.slot(), stored));
    });
  }

  @Override
  public void fetchSnapshot(int leaderId, long minSlot, long clusterId) {
    if (download != null) {
      inThisLife(world.jobDelayNanos(), () -> copySnapshot(leaderId, minSlot, clusterId));
      return;
    }
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
      Snapshot s = fetched.get();
      boolean stored;
      try {
        stored = disk.installSnapshot(s, theirs); // durable before the loop hears of it
      } catch (IOException e) {
        storageFailed(e);
        return;
      }
      // Not stored: the store already holds one as new, which the loop has applied.
      step(stored ? new ReplicaEvent.SnapshotFetched(s, theirs) : new ReplicaEvent.SnapshotFetchFailed(
          "a snapshot at slot " + s.slot() + " or newer is already stored"));
    });
  }

  /**
   * Copies the leader's snapshot file as the server does ({@link SnapshotDownload}, resuming the
   * copy a broken call left), then installs it through the store.
   */
  private void copySnapshot(int leaderId, long minSlot, long clusterId) {
    SnapshotDownload.Leader leader = world.snapshotLeader(id, leaderId);
    if (leader == null) {
      step(new ReplicaEvent.SnapshotFetchFailed("the leader cannot be reached"));
      return;
    }
    SnapshotDownload.Done done;
    Optional<Snapshot> installed;
    try {
      done = download.fetch(leader, minSlot, clusterId);
    } catch (SnapshotDownload.TransferException e) {
      step(new ReplicaEvent.SnapshotFetchFailed(e.toString())); // the copy broke: ask again
      return;
    } catch (IOException e) {
      storageFailed(e);
      return;
    }
    try {
      installed = disk.installReceived(done.identity().getSlot(), done.clusterId());
    } catch (CorruptSnapshotException e) {
      // The leader's file was bad (a bad sector there), not this disk: ask again, saying so.
      download.rejected(done.identity());
      step(new ReplicaEvent.SnapshotFetchFailed(e.toString()));
      return;
    } catch (IOException e) {
      storageFailed(e);
      return;
    }
    // Not stored: the store already holds one as new, which the loop has applied.
    step(installed.isPresent() ? new ReplicaEvent.SnapshotFetched(installed.get(), done.clusterId())
        : new ReplicaEvent.SnapshotFetchFailed("a snapshot at slot " + done.identity().getSlot()
            + " or newer is already stored"));
  }

  @Override
  public void snapshotInstalled(long slot) {
    snapshotsInstalled++;
  }

  @Override
  public void notice(String line) {
    if (TRACE) {
      trace(line);
    }
  }

  /** {@code -Dsynod.sim.trace=true}: a replay prints what each member's loop was told and noticed. */
  private static final boolean TRACE = Boolean.getBoolean("synod.sim.trace");

  private void trace(String line) {
    System.err.printf(java.util.Locale.ROOT, "%10.3f ms  member %d: %s%n", clock.monoNanos() / 1e6, id,
        line.length() > 300 ? line.substring(0, 300) + "..." : line);
  }

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
  public void membershipChanged(dev.synod.consensus.Membership membership, boolean proposed) {
    if (directory == null) {
      return;
    }
    if (proposed) {
      directory.learn(membership);
    } else {
      directory.adopt(membership);
    }
  }

  @Override
  public LeaderContact leaderContact() {
    return loop == null ? new LeaderContact(false, Long.MAX_VALUE) : loop.leaderContact();
  }

  /** Delivers a peer's envelope, through the same decoding the real peer service uses. */
  void receive(PeerEnvelope envelope) {
    if (directory == null) {
      return;
    }
    ReplicaEvent event = ReplicaEvent.fromPeer(envelope, directory::contains, id,
        loop == null ? 0 : loop.clusterId());
    if (event != null) {
      step(event);
    }
  }
}
