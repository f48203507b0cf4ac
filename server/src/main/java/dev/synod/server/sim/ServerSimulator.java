package dev.synod.server.sim;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.consensus.Membership;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.MemberChanges;
import dev.synod.server.replication.ReplicaEvent;
import dev.synod.server.replication.SnapshotDownload;
import dev.synod.server.replication.SnapshotSource;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * The whole-server simulation: N members, each the server's real replica loop and state machine
 * ({@link SimServer}), stepped on one thread from one seed over a simulated network (loss,
 * delay, duplication, reordering, asymmetric partitions), simulated disks (power loss, kill -9, a
 * power loss in the middle of an fsync, failing fsyncs, bad sectors in snapshots: see {@link
 * Disks}) and per-member clocks that drift and jump. Simulated clients ({@link SimClient}) open
 * sessions, write, read and take a lock, retrying across failovers;
 * {@link History} checks the guarantees after every event. Any failure replays from its seed.
 */
public final class ServerSimulator implements SimServer.World {
  /**
   * What the members keep their durable state on. The real stores find what the model cannot
   * (torn pages, the real recovery, MapDB snapshot files) but make a seed several times slower,
   * so by default a third of the seeds run on them, chosen by the seed.
   */
  public enum Disks {
    /** The real stores for a third of the seeds (chosen by the seed), the model for the rest. */
    MIXED,
    /** The server's real stores on a {@link SimulatedDisk} per member ({@link StoreDisk}). */
    REAL,
    /** The model of the stores ({@link SimDisk}). */
    MODEL;

    /** The system property that chooses: mixed (the default), real or model. */
    public static final String PROPERTY = "synod.sim.disks";

    /** As {@value #PROPERTY} says. */
    public static Disks fromProperty() {
      String value = System.getProperty(PROPERTY, "mixed");
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(PROPERTY + " must be mixed, real or model, got '"
            + value + "'");
      }
    }
  }

  /** How a run went. */
  public record Result(long seed, int replicas, boolean realStores, boolean passed, String failure,
      long events, long simMs, Stats stats) {
    public String describe() {
      return "seed " + seed + " (" + replicas + " members, " + (realStores ? "real stores" : "model disks")
          + "): " + (passed ? "passed" : "FAILED: " + failure) + " after " + events + " events, "
          + simMs + " ms simulated; " + stats;
    }
  }

  /** What a run exercised, so a pass can be told from a vacuous one. */
  public record Stats(long acked, long retried, long reads, long resumesRefused,
      long lockAcquisitions, long protectedWrites, long leaderChanges, long crashes,
      long partitions, long snapshotsInstalled, long clockJumps, long storageFailures,
      long watchEvents, long resyncs, long wipes, boolean majorityWiped, long membershipChanges) {
    @Override
    public String toString() {
      return acked + " writes acknowledged, " + retried + " retried, " + reads + " reads, "
          + resumesRefused + " resumes refused (member behind), " + lockAcquisitions
          + " lock acquisitions, " + protectedWrites + " protected writes, " + leaderChanges
          + " leader changes, " + crashes + " crashes, "
          + partitions + " partitions, " + storageFailures + " storage failures, " + clockJumps
          + " clock jumps, " + watchEvents + " watch events (" + resyncs + " resyncs), " + wipes
          + " disks wiped" + (majorityWiped ? " (a majority at once: safety checked only)" : "")
          + ", " + membershipChanges + " membership changes";
    }
  }

  private record Scheduled(long atNanos, long order, Runnable action) {}

  /** The operator's cycle in a reconfiguring run; {@code FOUNDER} is a founder picked per cycle. */
  private enum ReconfigStep {
    ADD_SPARE, PROMOTE_SPARE, TRANSFER_TO_SPARE, REMOVE_FOUNDER, ADD_FOUNDER, PROMOTE_FOUNDER,
    TRANSFER_TO_FOUNDER, REMOVE_SPARE
  }

  static final ReconfigStep[] RECONFIG_STEPS = ReconfigStep.values();

  private static final long MS = 1_000_000L;
  /** One seed in this many wipes a majority of the members' disks at once. */
  private static final int MAJORITY_WIPE_ONE_IN = 25;
  /** After the run settles: long enough for anything in flight to a client to arrive. */
  private static final long DRAIN_NANOS = 100 * MS;
  /** How far a member's clock rate may be off, in parts per million (either way). */
  static final int CLOCK_DRIFT_PPM_MAX = 300;
  /**
   * After the faults stop, clients keep writing this long, and longer until a write is
   * acknowledged: the healed cluster must make progress within {@link #PROGRESS_NANOS_MAX}.
   */
  private static final long CALM_WRITES_NANOS = 1_500 * MS;
  private static final long PROGRESS_NANOS_MAX = 8_000 * MS;
  /** Then the cluster must settle (every member applied everything, every write answered) in this. */
  private static final long SETTLE_NANOS_MAX = 10_000 * MS;

  private final long seed;
  private final int replicas;
  private final boolean reconfigure;
  /** The spare member's id in a reconfiguring run (0: none). */
  private final int spare;
  /** The next step of the operator's cycle, and the founder it removes and adds back. */
  private int reconfigStep;
  private int founder = 1;
  /** An operator's request is in flight (its outcome not yet back). */
  private boolean reconfigInFlight;
  /** Numbers the operator's requests, so a late answer to one given up on is ignored. */
  private long reconfigRequests;
  private long reconfigsDone;
  private String lastReconfigOutcome = "none yet";
  private final boolean realStores;
  private final SplittableRandom random;
  private final SimTime time = new SimTime();
  private final PriorityQueue<Scheduled> agenda = new PriorityQueue<>((a, b) ->
      a.atNanos != b.atNanos ? Long.compare(a.atNanos, b.atNanos) : Long.compare(a.order, b.order));
  private final SimServer[] servers;
  private final List<SimClient> clients = new ArrayList<>();
  private final History history = new History();
  private final ServerConfig config;
  /** The command line a wiped member is started with again. */
  private final ServerConfig existingConfig;
  /** {@code cut[a][b]}: messages from a to b are dropped (asymmetric partitions). */
  private final boolean[][] cut;
  private final long faultyUntilNanos;
  private final long writesUntilNanos;
  private long ackedWhenFaultsStopped = -1;
  private final long endNanos;
  private final int dropPerMille;
  private final int duplicatePerMille;
  private long order;
  private long events;
  private String failure;
  private long crashes;
  private long wipes;
  /**
   * Set once a majority of the members lost their disks at once: the cluster may then be unable
   * to go on (the survivors cannot elect a leader without the wiped members, which do not vote
   * until a leader admits them), and must rather stop than fork; only safety is checked after.
   */
  private boolean majorityWiped;
  /** Once the run settled: clients send nothing more, so what is in flight can arrive. */
  private boolean clientsFrozen;
  private long partitions;
  private long clockJumps;
  private long storageFailures;
  private long leaderChanges;
  private dev.synod.consensus.Ballot newestLeaderBallot;

  public ServerSimulator(long seed, int replicas, Disks disks) {
    this(seed, replicas, disks, false);
  }

  /**
   * {@code reconfigure}: on top of the faults, operators change the membership through the
   * leader's loop (a spare member, id replicas + 1, is added as a learner, promoted, made leader,
   * a founder is removed, added back and promoted, the spare removed again: see
   * {@link #RECONFIG_STEPS}), during partitions, crashes and failovers; disks are not wiped (the
   * wipe rule is stated for a fixed set of voters). After the faults the cycle runs on to its end
   * (every founder a voter, the spare out), then liveness is checked as in every run.
   */
  public ServerSimulator(long seed, int replicas, Disks disks, boolean reconfigure) {
    this.seed = seed;
    this.replicas = replicas;
    this.reconfigure = reconfigure;
    this.spare = reconfigure ? replicas + 1 : 0;
    this.random = new SplittableRandom(seed);
    // Drawn whatever the choice, so that a seed is the same run under MIXED and under REAL.
    boolean aThird = random.nextInt(3) == 0;
    this.realStores = disks == Disks.MIXED ? aThird : disks == Disks.REAL;
    this.config = config(replicas);
    this.existingConfig = config(replicas, ServerConfig.CLUSTER_STATE_EXISTING);
    int nodes = replicas + (reconfigure ? 1 : 0);
    this.servers = new SimServer[nodes + 1];
    this.cut = new boolean[nodes + 1][nodes + 1];
    this.faultyUntilNanos = (2_000 + random.nextInt(4_000)) * MS;
    this.writesUntilNanos = faultyUntilNanos + CALM_WRITES_NANOS;
    this.endNanos = faultyUntilNanos + PROGRESS_NANOS_MAX + SETTLE_NANOS_MAX;
    this.dropPerMille = random.nextInt(50);
    this.duplicatePerMille = random.nextInt(20);
    for (int id = 1; id <= replicas; id++) {
      ClusterConfig cluster = ClusterConfig.parse(config.members(), id, "127.0.0.1", 0);
      SimClock clock = new SimClock(time, random.nextInt(-CLOCK_DRIFT_PPM_MAX, CLOCK_DRIFT_PPM_MAX + 1),
          random.nextLong(1L << 40),
          1_700_000_000_000L + random.nextInt(-5_000, 5_000));
      servers[id] = new SimServer(id, config, cluster, clock, this, random.nextLong(), realStores);
    }
    if (reconfigure) {
      // The spare is started as a new member of the existing cluster would be: --members names
      // the founders and itself, --initial-cluster-state existing; it is admitted as a learner.
      ServerConfig spareConfig = config(replicas + 1, ServerConfig.CLUSTER_STATE_EXISTING);
      ClusterConfig cluster = ClusterConfig.parse(spareConfig.members(), spare, "127.0.0.1", 0);
      SimClock clock = new SimClock(time, random.nextInt(-CLOCK_DRIFT_PPM_MAX, CLOCK_DRIFT_PPM_MAX + 1),
          random.nextLong(1L << 40), 1_700_000_000_000L + random.nextInt(-5_000, 5_000));
      servers[spare] = new SimServer(spare, spareConfig, cluster, clock, this, random.nextLong(), realStores);
    }
    // Writers of plain keys, and contenders for one lock (they write one at a time, so fewer).
    int writers = 1 + random.nextInt(3);
    int contenders = 2 + random.nextInt(2);
    for (int c = 1; c <= writers + contenders; c++) {
      clients.add(new SimClient(c, c > writers, this, history, new SplittableRandom(random.nextLong())));
    }
  }

  static ServerConfig config(int replicas) {
    return config(replicas, ServerConfig.CLUSTER_STATE_NEW);
  }

  /** {@code clusterState}: what `--initial-cluster-state` says (new, or existing after a wipe). */
  static ServerConfig config(int replicas, String clusterState) {
    StringJoiner members = new StringJoiner(",");
    for (int id = 1; id <= replicas; id++) {
      members.add(id + "=127.0.0.1:" + (17_000 + id));
    }
    try {
      return ConfigParser.parse("--members", members.toString(), "--server-id", "1",
          "--tick-ms", "10", "--election-ticks-min", "10", "--election-ticks-max", "20",
          "--heartbeat-ticks", "3", "--write-timeout-ms", "2000", "--snapshot-every-txns", "40",
          // Small segments, so that the log rolls and truncation deletes segments in every run.
          "--segment-bytes-max", "16384",
          "--session-timeout-min-ms", "1000", "--housekeeping-interval-ms", "100",
          // Every start of a member says so, as an init script would: only an empty data
          // directory (a member's first start) heeds it.
          "--initial-cluster-state", clusterState);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the seed to its end, or to the first violated guarantee. */
  public Result run() {
    int late = random.nextInt(4) == 0 ? 1 + random.nextInt(replicas) : 0;
    for (int id = 1; id <= replicas; id++) {
      int member = id;
      // Members start at different moments, as processes do; sometimes one starts much later
      // (the cluster runs without it, then it catches up).
      long startMs = id == late ? 500 + random.nextInt(3_000) : random.nextInt(200);
      // Unless the end of the faults started it already (it restarts every member that is down):
      // a second start would run two processes on one data directory, which its lock refuses.
      at(startMs * MS, () -> restart(member));
    }
    for (SimClient c : clients) {
      at((100 + random.nextInt(500)) * MS, c::act);
    }
    at(random.nextInt(500) * MS, this::fault);
    if (!reconfigure && random.nextInt(MAJORITY_WIPE_ONE_IN) == 0) {
      at(random.nextLong(faultyUntilNanos / 3, faultyUntilNanos), this::wipeMajority);
    }
    at(100 * MS, this::housekeeping);
    if (reconfigure) {
      at((200 + random.nextInt(300)) * MS, () -> restart(spare));
      at((300 + random.nextInt(500)) * MS, this::reconfigure);
    }
    try {
      while (failure == null && !agenda.isEmpty() && agenda.peek().atNanos <= endNanos) {
        stepOnce();
        if (!writing() && settled() && atRest()) {
          break;
        }
      }
      // What is still on its way (watch events, answers) arrives before the final checks; the
      // clients send nothing more meanwhile, and whatever the servers still decide (a session
      // expiring) settles again.
      clientsFrozen = true;
      long drainedAt = time.nowNanos() + DRAIN_NANOS;
      while (failure == null && !agenda.isEmpty() && agenda.peek().atNanos <= endNanos
          && (agenda.peek().atNanos <= drainedAt || !settled())) {
        stepOnce();
      }
      if (failure == null) {
        failure = finalChecks();
      }
    } catch (RuntimeException bug) {
      failure = "the simulation threw " + bug;
    }
    long resumesRefused = clients.stream().mapToLong(SimClient::resumesRefused).sum();
    LockChecker locks = history.locks();
    Stats stats = new Stats(history.acked(), history.retried(), history.reads(), resumesRefused,
        locks.acquisitions(), locks.protectedWritesApplied(), leaderChanges, crashes, partitions,
        Arrays.stream(servers, 1, servers.length).mapToLong(SimServer::snapshotsInstalled).sum(),
        clockJumps, storageFailures, history.watchEvents(),
        clients.stream().mapToLong(SimClient::resyncs).sum(), wipes, majorityWiped, reconfigsDone);
    return new Result(seed, replicas, realStores, failure == null, failure, events,
        time.nowNanos() / MS, stats);
  }

  // -----------------------------------------------------------------------------------------------
  // The agenda

  /** Runs the next event of the agenda and the checks that follow every event. */
  private void stepOnce() {
    Scheduled next = agenda.poll();
    time.advanceTo(next.atNanos);
    next.action.run();
    events++;
    noticeLeader();
    if (failure == null) {
      failure = history.violation();
    }
    if (failure == null && events % 2_000 == 0) {
      failure = checkStates();
    }
    if (ackedWhenFaultsStopped < 0 && !faulty()) {
      ackedWhenFaultsStopped = history.acked();
    }
  }

  void at(long delayNanos, Runnable action) {
    agenda.add(new Scheduled(time.nowNanos() + Math.max(0, delayNanos), order++, action));
  }

  long nowNanos() {
    return time.nowNanos();
  }

  /** Whether clients must not send anything any more (the run is being drained for its checks). */
  boolean clientsFrozen() {
    return clientsFrozen;
  }

  boolean faulty() {
    return time.nowNanos() < faultyUntilNanos;
  }

  /**
   * Whether clients may start new writes: during the faults and the calm period after, and on
   * until the healed cluster acknowledged a write (at most {@link #PROGRESS_NANOS_MAX}).
   */
  boolean writing() {
    long now = time.nowNanos();
    return now < writesUntilNanos || (!progressedAfterFaults() && now < faultyUntilNanos + PROGRESS_NANOS_MAX);
  }

  private boolean progressedAfterFaults() {
    return ackedWhenFaultsStopped >= 0 && history.acked() > ackedWhenFaultsStopped;
  }

  /** Every member up and applied to the end of the decided history; no write left unanswered. */
  private boolean settled() {
    for (int id = 1; id <= replicas; id++) {
      if (!servers[id].isUp() || servers[id].state().lastZxid() != history.decidedCount()) {
        return false;
      }
    }
    for (SimClient c : clients) {
      if (c.waiting()) {
        return false;
      }
    }
    return true;
  }

  private void scheduleTick(int id) {
    // Each member ticks on its own clock: drift makes their ticks slide against each other.
    long tick = config.tickMs() * MS;
    at(tick + random.nextInt(1_000), () -> {
      if (servers[id].isUp()) {
        servers[id].tick();
        scheduleTick(id);
      }
    });
  }

  private void housekeeping() {
    for (int id = 1; id < servers.length; id++) {
      servers[id].housekeeping();
    }
    at(config.housekeepingIntervalMs() * MS, this::housekeeping);
  }

  // -----------------------------------------------------------------------------------------------
  // Faults

  private void fault() {
    if (!faulty()) {
      healAll();
      return;
    }
    int kind = random.nextInt(100);
    int id = 1 + random.nextInt(servers.length - 1);
    if (kind < 25) {
      crashes++;
      if (!servers[id].isUp()) {
        // Power fails again while it recovers, at one of the first fsyncs of its next start:
        // what the last process left unsynced is most at risk then.
        servers[id].crashAtFsync(1 + random.nextInt(3));
      } else if (random.nextInt(4) == 0) {
        // Power fails in the middle of a write (a log append, a snapshot): the member stops
        // there, and restarts as after any storage failure (see halted).
        servers[id].crashAtFsync(1 + random.nextInt(8));
      } else {
        servers[id].crash(random.nextBoolean()); // a power loss, or kill -9
        at((50 + random.nextInt(2_000)) * MS, () -> restart(id));
      }
    } else if (kind < 50) {
      partitions++;
      int other = 1 + random.nextInt(servers.length - 1);
      boolean oneWay = random.nextInt(3) == 0;
      if (random.nextBoolean()) {
        isolate(id, oneWay); // one member cut off from all the others
      } else if (other != id) {
        cut[id][other] = true;
        if (!oneWay) {
          cut[other][id] = true;
        }
      }
      at((100 + random.nextInt(3_000)) * MS, this::healAll);
    } else if (kind < 60) {
      clockJumps++;
      servers[id].clock.jump(random.nextBoolean() ? random.nextInt(1, 30_000) : -random.nextInt(1, 30_000));
    } else if (kind < 65) {
      if (servers[id].isUp()) {
        storageFailures++;
        servers[id].failFsyncs();
      }
    } else if (kind < 75) {
      healAll();
    } else if (kind < 80 && !reconfigure && mayWipe(id)) {
      wipe(id);
    }
    at((100 + random.nextInt(900)) * MS, this::fault);
  }

  /**
   * Whether member {@code id}'s disk may be wiped without wiping a majority: the members that do
   * not vote (wiped and not yet admitted, or down) other than it stay a minority with it.
   */
  private boolean mayWipe(int id) {
    int lost = 1;
    for (int other = 1; other <= replicas; other++) {
      if (other != id && !servers[other].votes()) {
        lost++;
      }
    }
    return lost <= (replicas - 1) / 2;
  }

  /** The member's disk is replaced; the operator starts it again as a member of the cluster. */
  private void wipe(int id) {
    wipes++;
    servers[id].wipe(existingConfig);
    at((50 + random.nextInt(2_000)) * MS, () -> restart(id));
  }

  /**
   * A majority of the members lose their disks at once, and are started again with empty ones
   * (as members of the existing cluster). Acknowledged writes may now exist only on the wiped
   * disks: no automatic rule may go on from the survivors as if nothing happened, nor start a
   * new history from the empty ones (the operator's recovery is the README's majority-loss
   * procedure). From here on only safety is checked: agreement, and no acknowledged write lost
   * from the history that goes on (if any does: a surviving leader that admits the wiped ones).
   */
  private void wipeMajority() {
    majorityWiped = true;
    List<Integer> ids = new ArrayList<>();
    for (int id = 1; id <= replicas; id++) {
      ids.add(id);
    }
    for (int n = 0; n < replicas / 2 + 1; n++) {
      wipe(ids.remove(random.nextInt(ids.size())));
    }
  }

  private void restart(int id) {
    if (!servers[id].isUp()) {
      servers[id].start();
      scheduleTick(id);
    }
  }

  private void isolate(int id, boolean oneWay) {
    for (int other = 1; other < servers.length; other++) {
      if (other != id) {
        cut[id][other] = true;
        if (!oneWay) {
          cut[other][id] = true;
        }
      }
    }
  }

  private void healAll() {
    for (boolean[] row : cut) {
      java.util.Arrays.fill(row, false);
    }
    if (!faulty()) {
      for (int id = 1; id < servers.length; id++) {
        int member = id;
        servers[id].cancelDiskFaults();
        if (!servers[id].isUp()) {
          at(random.nextInt(100) * MS, () -> restart(member));
        }
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Membership changes (reconfiguring runs)

  /**
   * The operator's next request, sent to the member that leads (any member if none does: it
   * answers NOT_LEADER, and the step is tried again). A refused or timed-out step is tried again
   * later; one that took effect moves the cycle on. Runs until the faults are over and the cycle
   * is back at rest (every founder a voter, the spare out).
   */
  private void reconfigure() {
    if (failure != null || (!faulty() && atRest())) {
      return;
    }
    at((100 + random.nextInt(faulty() ? 900 : 200)) * MS, this::reconfigure);
    if (reconfigInFlight) {
      return;
    }
    int target = leaderOrAny();
    if (target < 0) {
      return;
    }
    ReconfigStep step = RECONFIG_STEPS[reconfigStep];
    MemberChanges.Request request = switch (step) {
      case ADD_SPARE -> MemberChanges.Request.add(spare, Membership.Role.LEARNER, "127.0.0.1:" + (17_000 + spare));
      case PROMOTE_SPARE -> MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, spare);
      case TRANSFER_TO_SPARE -> MemberChanges.Request.of(MemberChanges.Kind.TRANSFER, spare);
      case REMOVE_FOUNDER -> MemberChanges.Request.of(MemberChanges.Kind.REMOVE, founder);
      case ADD_FOUNDER -> MemberChanges.Request.add(founder, Membership.Role.LEARNER, "127.0.0.1:" + (17_000 + founder));
      case PROMOTE_FOUNDER -> MemberChanges.Request.of(MemberChanges.Kind.PROMOTE, founder);
      case TRANSFER_TO_FOUNDER -> MemberChanges.Request.of(MemberChanges.Kind.TRANSFER, founder);
      case REMOVE_SPARE -> MemberChanges.Request.of(MemberChanges.Kind.REMOVE, spare);
    };
    reconfigInFlight = true;
    long requestNo = ++reconfigRequests;
    long deadline = servers[target].clock.monoNanos() + 3_000 * MS;
    servers[target].step(new ReplicaEvent.MemberChange(request, outcome -> {
      if (requestNo != reconfigRequests) {
        return; // given up on already (see below)
      }
      reconfigInFlight = false;
      lastReconfigOutcome = step + " at member " + target + ": " + outcome.code() + " " + outcome.message();
      if (outcome.code() == MemberChanges.Code.OK) {
        reconfigsDone++;
        advanceReconfig();
      } else if (outcome.code() == MemberChanges.Code.REFUSED && outcome.membership() != null
          && alreadyDone(step, outcome.membership())) {
        // An earlier try took effect but its answer was lost (a leader change, a timeout): go on.
        reconfigsDone++;
        advanceReconfig();
      } else if (outcome.code() == MemberChanges.Code.REFUSED
          && (step == ReconfigStep.TRANSFER_TO_SPARE || step == ReconfigStep.TRANSFER_TO_FOUNDER)) {
        advanceReconfig(); // a transfer is optional
      } else if (outcome.code() == MemberChanges.Code.REFUSED && step == ReconfigStep.REMOVE_SPARE
          && target == spare) {
        reconfigStep = ReconfigStep.TRANSFER_TO_FOUNDER.ordinal(); // the spare leads (again): hand over first
      } else if (outcome.code() == MemberChanges.Code.REFUSED && step == ReconfigStep.REMOVE_FOUNDER) {
        founder = 1 + random.nextInt(replicas); // refused (it leads, say): certainly not removed, try another
      }
    }, deadline));
    // A member that dies with the request never answers: the step is tried again.
    at(4_000 * MS, () -> {
      if (requestNo == reconfigRequests) {
        reconfigInFlight = false;
        reconfigRequests++;
      }
    });
  }

  /**
   * The cycle's next step. The founder to remove is picked on entering that step and kept until
   * it is added back: a removal whose answer was lost may have taken effect.
   */
  private void advanceReconfig() {
    reconfigStep = (reconfigStep + 1) % RECONFIG_STEPS.length;
    if (RECONFIG_STEPS[reconfigStep] == ReconfigStep.REMOVE_FOUNDER) {
      founder = 1 + random.nextInt(replicas);
    }
  }

  /** Whether the decided membership {@code m} already is what {@code step} asks for. */
  private boolean alreadyDone(ReconfigStep step, Membership m) {
    if (step == ReconfigStep.REMOVE_FOUNDER) {
      for (int f = 1; f <= replicas; f++) {
        if (!m.contains(f)) {
          founder = f; // an earlier try, maybe with another founder, was decided
          return true;
        }
      }
      return false;
    }
    return switch (step) {
      case ADD_SPARE -> m.contains(spare);
      case PROMOTE_SPARE -> m.isVoter(spare);
      case REMOVE_FOUNDER -> false;
      case ADD_FOUNDER -> m.contains(founder);
      case PROMOTE_FOUNDER -> m.isVoter(founder);
      case REMOVE_SPARE -> !m.contains(spare);
      case TRANSFER_TO_SPARE, TRANSFER_TO_FOUNDER -> false;
    };
  }

  /** The member that leads (the newest ballot's), or a random member that is up, or -1. */
  private int leaderOrAny() {
    for (int id = 1; id < servers.length; id++) {
      if (servers[id].isUp() && servers[id].isLeader()) {
        return id;
      }
    }
    int id = 1 + random.nextInt(servers.length - 1);
    return servers[id].isUp() ? id : -1;
  }

  /** Not a reconfiguring run, or its cycle is at rest: every founder votes, the spare is out. */
  private boolean atRest() {
    return !reconfigure || (reconfigStep == 0 && !reconfigInFlight);
  }

  long reconfigsDone() {
    return reconfigsDone;
  }

  // -----------------------------------------------------------------------------------------------
  // SimServer.World

  @Override
  public void send(int from, int to, PeerEnvelope envelope) {
    if (cut[from][to] || (faulty() && random.nextInt(1000) < dropPerMille)) {
      return;
    }
    byte[] bytes = envelope.toByteArray(); // every message goes through the wire format
    int copies = faulty() && random.nextInt(1000) < duplicatePerMille ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      long delay = random.nextInt(100) < 3 ? random.nextInt(1, 60) * MS : random.nextInt(50_000, 2_000_000);
      at(delay, () -> {
        if (cut[from][to] || !servers[to].isUp()) {
          return;
        }
        try {
          servers[to].receive(PeerEnvelope.parseFrom(bytes));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          failure = "a peer envelope did not parse: " + e;
        }
      });
    }
  }

  @Override
  public void schedule(long delayNanos, Runnable action) {
    at(delayNanos, action);
  }

  @Override
  public Optional<Snapshot> snapshotOf(int from, int leaderId, long minSlot) {
    SimServer leader = servers[leaderId];
    if (!leader.isUp() || cut[leaderId][from] || cut[from][leaderId]
        || leader.loop().appliedSlot() < minSlot) {
      return Optional.empty();
    }
    return Optional.of(leader.state().snapshot().withSlot(leader.loop().appliedSlot()));
  }

  @Override
  public SnapshotDownload.Leader snapshotLeader(int from, int leaderId) {
    SimServer leader = servers[leaderId];
    SnapshotSource source = leader.snapshotSource();
    if (source == null || cut[leaderId][from] || cut[from][leaderId]) {
      return null;
    }
    SnapshotDownload.Leader direct = source.direct(() -> clusterIdOf(leaderId));
    if (!faulty()) {
      return direct;
    }
    // While faults run, a call breaks now and then, as a connection lost in the middle does.
    return request -> {
      SnapshotDownload.Window window = direct.read(request);
      return new SnapshotDownload.Window() {
        @Override
        public boolean hasNext() {
          if (random.nextInt(8) == 0) {
            throw new IllegalStateException("simulated: the connection to the leader broke");
          }
          return window.hasNext();
        }

        @Override
        public SnapshotPiece next() {
          return window.next();
        }

        @Override
        public void close() {
          window.close();
        }
      };
    };
  }

  @Override
  public long clusterIdOf(int id) {
    return servers[id].isUp() ? servers[id].loop().clusterId() : 0;
  }

  @Override
  public long jobDelayNanos() {
    return random.nextInt(1, 50) * MS;
  }

  @Override
  public long fsyncDelayNanos() {
    // Mostly fast, now and then a slow device (the tail a real disk has under load).
    return random.nextInt(20) == 0 ? random.nextLong(1, 20) * MS : random.nextLong(20_000, 500_000);
  }

  @Override
  public boolean damageSnapshot() {
    return faulty() && random.nextInt(100) < 5;
  }

  @Override
  public void applied(int id, Txn txn) {
    String v = history.applied(id, txn, time.nowNanos());
    if (v != null && failure == null) {
      failure = v;
    }
  }

  @Override
  public void halted(int id, String why, Throwable cause) {
    if (simulatedDiskFault(cause)) {
      at((50 + random.nextInt(1_000)) * MS, () -> restart(id)); // expected: restarts and recovers
      return;
    }
    java.io.StringWriter trace = new java.io.StringWriter();
    cause.printStackTrace(new java.io.PrintWriter(trace));
    failure = "member " + id + " halted (" + why + "): " + trace.toString().lines().limit(8)
        .reduce((a, b) -> a + " | " + b).orElse("");
  }

  /** Whether {@code cause} is (or was caused by) a fault the simulated disk was told to inject. */
  private static boolean simulatedDiskFault(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof IOException && String.valueOf(t.getMessage()).startsWith("simulated ")) {
        return true;
      }
    }
    return false;
  }

  // -----------------------------------------------------------------------------------------------
  // For clients

  SimServer server(int id) {
    return servers[id];
  }

  int replicas() {
    return replicas;
  }

  /** How long a client's message takes to reach a member, or an answer to come back. */
  long clientDelayNanos() {
    return random.nextInt(50_000, 2_000_000);
  }

  ServerConfig config() {
    return config;
  }

  // -----------------------------------------------------------------------------------------------
  // Checks

  /** Counts leaderships: a new leader is one that leads with a higher ballot than any before. */
  private void noticeLeader() {
    for (int id = 1; id < servers.length; id++) {
      if (servers[id].isLeader()) {
        dev.synod.consensus.Ballot b = servers[id].loop().status().ballot();
        if (newestLeaderBallot == null || b.isAbove(newestLeaderBallot)) {
          if (newestLeaderBallot != null) {
            leaderChanges++;
          }
          newestLeaderBallot = b;
        }
      }
    }
  }

  /** The state of every member that is up: ephemerals belong to live sessions. */
  private String checkStates() {
    for (int id = 1; id < servers.length; id++) {
      if (servers[id].isUp()) {
        String v = history.checkState(id, servers[id].state());
        if (v != null) {
          return v;
        }
      }
    }
    return null;
  }

  /** Each member's view, for failure reports. */
  private String describeMembers() {
    StringJoiner out = new StringJoiner("; ");
    for (int id = 1; id < servers.length; id++) {
      SimServer m = servers[id];
      if (!m.isUp()) {
        out.add(id + ": down");
        continue;
      }
      var st = m.loop().status();
      out.add(id + ": " + st.role() + " leader " + st.leaderId() + " ballot " + st.ballot() + " commit "
          + st.commitIndex() + " last " + st.lastSlot() + " applied " + m.loop().appliedSlot()
          + " cluster " + Long.toHexString(m.loop().clusterId()));
    }
    return out.toString();
  }

  /** After the faults stop: every member converges on the same state, holding every acked write. */
  private String finalChecks() {
    String v = checkStates();
    if (v != null) {
      return v;
    }
    if (majorityWiped) {
      return history.finalViolation(); // it may rightly be stuck: no liveness is owed
    }
    long newest = history.decidedCount();
    for (int id = 1; id <= replicas; id++) {
      if (!servers[id].isUp()) {
        return "member " + id + " is still down after the faults stopped";
      }
      long last = servers[id].state().lastZxid();
      if (last != newest) {
        return "member " + id + " applied up to zxid " + last + " but " + newest + " were decided,"
            + " " + (SETTLE_NANOS_MAX / MS) + " ms after the clients stopped; members: " + describeMembers()
            + (reconfigure ? "; operator at " + RECONFIG_STEPS[reconfigStep] + " (founder " + founder
            + "), last outcome " + lastReconfigOutcome : "");
      }
    }
    for (SimClient c : clients) {
      if (c.waiting()) {
        return c.describeWait() + ", " + (SETTLE_NANOS_MAX / MS) + " ms after the clients stopped";
      }
      String missed = c.missedWatchEvent();
      if (missed != null) {
        return missed;
      }
    }
    if (!atRest()) {
      return "the membership cycle did not come to rest after the faults stopped: at step "
          + RECONFIG_STEPS[reconfigStep] + " (founder " + founder + "), last outcome " + lastReconfigOutcome
          + "; members: " + describeMembers();
    }
    if (!progressedAfterFaults()) {
      return "no write was acknowledged in the " + (PROGRESS_NANOS_MAX / MS) + " ms after the faults"
          + " stopped (" + ackedWhenFaultsStopped + " before); members: " + describeMembers();
    }
    if (history.acked() == 0) {
      return "vacuous run: no write was acknowledged";
    }
    return history.finalViolation();
  }
}
