package dev.synod.consensus.sim;

import dev.synod.consensus.DurableState;
import dev.synod.consensus.Entry;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Message;
import dev.synod.consensus.MessageCodec;
import dev.synod.consensus.RandomSource;
import dev.synod.consensus.Replica;
import dev.synod.consensus.ReplicaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A whole cluster, single-threaded, from one seed (after TigerBeetle's VOPR): replicas with fake
 * disks behind a fake network, a driver loop per replica (persist, then send, then apply), client
 * writes to every replica that believes it leads, linearizable reads, and faults: message loss,
 * duplication, delay, long-delayed stale messages and reordering; partitions; pauses (a stalled
 * process resumes with its stale view) and slow clocks; crashes (also between a Ready and its
 * persistence) and restarts; log compaction; and wiped disks. Faults favour the leader. The seed
 * also picks the mix ({@link SimConfig#forSeed}). {@link Invariants} are checked as every event
 * takes effect. After the faulty phase, faults stop, the network heals and every replica restarts;
 * the run then must show liveness: every acknowledged write applied everywhere, and a new write
 * decided, within a bounded number of ticks. With three or more replicas a failover drill follows:
 * every replica must become a voter, then the leader crashes just as its followers' commit indexes
 * differ and the survivors must elect a leader within {@link #FAILOVER_ELECTIONS} election
 * timeouts and go on deciding. {@link #failover} runs such leader crashes alone, in calm runs.
 *
 * <p>Every replica starts as a founder of the cluster (an empty disk created for it); a wiped one
 * restarts as an empty disk of the existing cluster, which only joins through a leader.
 * {@link #emptyMajority} runs the case no rule can decide alone: a majority with empty disks.
 *
 * <p>Wiped disks: the fresh-node rule alone keeps a three-replica cluster safe when one disk is
 * wiped while the other disks are intact, so with three replicas that is the only condition. With
 * five or more no rule can: a value decided with the wiped replica's vote may be left on a
 * minority, and a majority of the others can then decide something else without ever asking the
 * wiped replica. There a wipe also needs a majority of the others to have durably committed every
 * slot the wiped disk knew of, and to have promised at least what it promised.
 */
public final class Simulator {
  /** Ready/advance rounds one driver pass may take before we call it a livelock. */
  private static final int DRIVE_ROUNDS_MAX = 10_000;

  private final long seed;
  private final SimConfig config;
  private final RandomSource random;
  private final SimNetwork network;
  private final Invariants invariants = new Invariants();
  private final SimNode[] nodes;
  /** Every node, members or spares: ids 1..total. */
  private final int total;
  /** The founding voters (1..replicas). */
  private final List<Integer> members = new ArrayList<>();
  /** Membership changes and leadership transfers run (see {@link #reconfiguring}). */
  private final boolean reconfig;
  /** The latest membership decided (as applied by any replica) and the slot that decided it. */
  private Membership decidedMembership;
  private long decidedMembershipSlot;
  private long reconfigs;
  private long now;
  private long event;
  private long trace = 17;
  private boolean faulty = true;
  private long nextValueId = 1;
  private long nextReadId = 1;
  private long markerId;
  private long markerProposedAt;
  private long elections;
  private long crashes;
  private long wipes;
  private long partitions;
  private long compactions;
  private long snapshotsInstalled;
  private long readsOk;
  private long readsRefused;

  public Simulator(long seed, SimConfig config) {
    this(seed, config, false);
  }

  private Simulator(long seed, SimConfig config, boolean reconfig) {
    this.seed = seed;
    this.config = config;
    this.reconfig = reconfig;
    this.random = RandomSource.seeded(seed);
    this.total = config.replicas() + (reconfig ? SPARES : 0);
    this.network = new SimNetwork(RandomSource.seeded(Invariants.mix(seed)), config, total);
    this.nodes = new SimNode[total + 1];
    for (int id = 1; id <= total; id++) {
      nodes[id] = new SimNode(id, id <= config.replicas());
      if (id <= config.replicas()) {
        members.add(id);
      }
    }
    this.decidedMembership = Membership.ofVoters(members);
  }

  /** Nodes that start outside the cluster in a reconfiguring run (they join as learners). */
  static final int SPARES = 2;
  /** Chance per tick, in a reconfiguring run, that a leader changes the membership or hands over. */
  static final int RECONFIG_PER_MILLE = 30;

  /**
   * A run in which, on top of the seed's faults, leaders change the membership: spares (nodes
   * started outside the cluster, ids above {@code replicas}) are added as learners or observers,
   * learners promoted, voters and non-voters removed (removed nodes keep running, with the view
   * they had: they must not disrupt the cluster), and leadership is handed over. Changes happen
   * during partitions, crashes and leader failover. Disks are not wiped in these runs (the wipe
   * rule is stated for a fixed set of voters). After the faults, liveness is checked for the
   * members of the latest membership.
   */
  public static SimResult reconfiguring(long seed, int replicas, int events) {
    SimConfig c = SimConfig.forSeed(seed, replicas, events);
    SimConfig noWipes = new SimConfig(c.replicas(), c.events(), c.quietTicksMax(), c.delayTicksMax(),
        c.longDelayPerMille(), c.longDelayTicksMax(), c.dropPerMille(), c.duplicatePerMille(),
        c.partitionPerMille(), c.healPerMille(), c.pausePerMille(), c.pauseTicksMax(), c.skewPerMille(),
        c.crashPerMille(), c.crashInReadyPerMille(), c.restartPerMille(), 0, c.proposePerMille(),
        c.readPerMille(), c.compactPerMille(), c.electionTicksMin(), c.electionTicksMax(),
        c.heartbeatTicks(), c.inflightSlotsMax(), c.catchupEntriesMax(), c.messageEntriesMax());
    return new Simulator(seed, noWipes, true).run();
  }

  /** A leader changes the membership by one step, or hands leadership to another voter. */
  private void reconfigure() {
    SimNode leader = pickLeader();
    if (leader == null) {
      return;
    }
    Membership m = leader.replica.membership();
    int choice = random.nextInt(6);
    int id = 1 + random.nextInt(total);
    Membership next = null;
    Membership.Role role = m.roleOf(id);
    switch (choice) {
      case 0 -> next = role == null ? m.with(id, Membership.Role.LEARNER, "") : null;
      case 1 -> next = role == null ? m.with(id, Membership.Role.OBSERVER, "") : null;
      case 2 -> next = role == Membership.Role.LEARNER ? m.with(id, Membership.Role.VOTER, "") : null;
      case 3 -> next = role != null && id != leader.id && (role != Membership.Role.VOTER
          || m.voters().size() > 1) ? m.without(id) : null;
      case 4 -> next = role == Membership.Role.VOTER && id != leader.id && m.voters().size() > 1
          ? m.with(id, Membership.Role.LEARNER, "") : null;
      default -> {
        if (leader.replica.transferLeadership(id)) {
          reconfigs++;
          record(13, leader.id, id);
          drive(leader);
        }
        return;
      }
    }
    if (next == null) {
      return;
    }
    // A demotion (voter to learner) is a removal and an addition as one step: the rules allow it.
    Replica.ChangeResult result = leader.replica.proposeMembership(next);
    if (result == Replica.ChangeResult.PROPOSED) {
      reconfigs++;
      record(14, leader.id, Arrays.hashCode(next.encode()));
      drive(leader);
    }
  }

  /** Runs the seed to the end; never throws for a violation, it is reported in the result. */
  public SimResult run() {
    try {
      for (int id = 1; id <= total; id++) {
        event++;
        start(nodes[id], false);
      }
      while (event < config.events()) {
        step();
      }
      quiet();
      return result(true, -1, null);
    } catch (InvariantViolation v) {
      return result(false, event, v.getMessage());
    } catch (RuntimeException e) {
      StringBuilder where = new StringBuilder("replica threw " + e);
      StackTraceElement[] stack = e.getStackTrace();
      for (int i = 0; i < Math.min(4, stack.length); i++) {
        where.append(" at ").append(stack[i]);
      }
      return result(false, event, where.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The event loop

  /** One event: deliver the next due message, or let a tick pass (then maybe faults and clients). */
  private void step() {
    event++;
    SimNetwork.InFlight m = network.nextDue(now);
    if (m != null) {
      deliver(m);
      return;
    }
    now++;
    record(1, now, 0);
    for (int id = 1; id <= total; id++) {
      SimNode n = nodes[id];
      if (n.up() && !n.paused(now) && !(faulty && roll(config.skewPerMille()))) {
        n.replica.tick();
        drive(n);
      }
    }
    if (faulty) {
      faults();
      if (reconfig && roll(RECONFIG_PER_MILLE)) {
        event++;
        reconfigure();
      }
      if (roll(config.proposePerMille())) {
        event++;
        propose(1 + random.nextInt(3));
      }
    }
    if (roll(config.readPerMille())) {
      event++;
      read();
    }
    if (roll(config.compactPerMille())) {
      event++;
      compact();
    }
  }

  /** Faults hit leaders more often than their share: that is where the dangerous interleavings are. */
  private void faults() {
    if (roll(config.crashPerMille())) {
      SimNode n = pickVictim();
      if (n != null) {
        event++;
        crash(n);
      }
    }
    if (roll(config.pausePerMille())) {
      SimNode n = pickVictim();
      if (n != null && !n.paused(now)) {
        event++;
        n.pausedUntil = now + 1 + random.nextInt(config.pauseTicksMax());
        record(12, n.id, n.pausedUntil);
      }
    }
    if (roll(config.restartPerMille())) {
      SimNode n = pick(false);
      if (n != null) {
        event++;
        start(n, true);
      }
    }
    if (!network.partitioned() && roll(config.partitionPerMille())) {
      event++;
      partitions++;
      SimNode leader = random.nextInt(2) == 0 ? pickLeader() : null;
      String cut = leader != null ? network.isolate(leader.id) : network.partition();
      record(2, cut.hashCode(), 0);
    } else if (network.partitioned() && roll(config.healPerMille())) {
      event++;
      network.heal();
      record(3, 0, 0);
    }
  }

  /**
   * Faults stop, the network heals, every replica restarts; then liveness must follow. With three
   * or more replicas a failover drill follows (see {@link #failoverDrill}).
   */
  private void quiet() {
    faulty = false;
    network.stopFaults();
    for (int id = 1; id <= total; id++) {
      nodes[id].pausedUntil = 0;
    }
    for (int id = 1; id <= total; id++) {
      if (!nodes[id].up()) {
        event++;
        start(nodes[id], false);
      }
    }
    awaitLive("after the faults stopped");
    if (config.replicas() >= 3 && !reconfig) {
      failoverDrill();
    }
  }

  /**
   * Waits until a new write (a marker) is decided and every acknowledged write is applied on every
   * replica that is up, within quietTicksMax plus the time catching up may take.
   */
  private void awaitLive(String after) {
    markerId = 0;
    long allowed = config.quietTicksMax() + catchupTicks();
    long deadline = now + allowed;
    while (!live()) {
      if (now > deadline) {
        throw new InvariantViolation("liveness: " + allowed + " ticks " + after + ", "
            + livenessReport());
      }
      long marker = markerId;
      if (marker == 0 || (invariants.slotOf(marker) == 0
          && now - markerProposedAt > 4L * config.electionTicksMax())) {
        proposeMarker(); // a new write must be decided (a lost one is replaced by a fresh id)
      }
      step();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Failover: the leader crashes while a majority survives; the survivors must elect promptly

  /** Election timeouts the survivors of a leader crash may take to elect a new leader. */
  static final int FAILOVER_ELECTIONS = 20;

  /** The shapes of a leader crash that {@link #failover} runs, in a calm network. */
  public enum Failover {
    /**
     * Every replica starts at once with an empty disk (a brand-new cluster), and the first leader
     * crashes the moment it is elected: every replica that started with it must have become a
     * voter, or the survivors cannot form a majority (the server's "no leader elected").
     */
    NEW_CLUSTER,
    /**
     * As NEW_CLUSTER, but the replicas start (empty disks) {@link #STAGGER_ELECTIONS} election
     * timeouts apart, as servers started one after another do (their links still connecting).
     */
    STAGGERED_START,
    /**
     * The last replica starts (empty disk) only after the others have elected a leader and decided
     * something; it must join within {@link #JOIN_ELECTIONS} election timeouts, and then the leader
     * crashes.
     */
    LATE_MEMBER,
    /**
     * The leader crashes right after one follower has learned a newer commit index than another:
     * the one behind must not keep the one ahead from being elected.
     */
    COMMITS_DIFFER
  }

  /** Election timeouts between the starts of replicas in {@link Failover#STAGGERED_START}. */
  static final int STAGGER_ELECTIONS = 2;

  /** Election timeouts (plus the catch-up time) a fresh replica may take to join a live leader. */
  static final int JOIN_ELECTIONS = 4;

  /**
   * One calm run (no loss, partitions, pauses or client load; delays and reordering remain) of a
   * failover shape, with the seed's timing and limits. Passes if the survivors elect a leader
   * within {@link #FAILOVER_ELECTIONS} election timeouts of the crash, then decide and apply a new
   * write, and the crashed leader, restarted, catches up.
   */
  public static SimResult failover(long seed, int replicas, Failover shape) {
    if (replicas < 3) {
      throw new IllegalArgumentException("a failover needs a majority to survive: replicas >= 3");
    }
    SimConfig c = SimConfig.forSeed(seed, replicas, 1);
    SimConfig calm = new SimConfig(replicas, 1, c.quietTicksMax(), c.delayTicksMax(), 0,
        c.longDelayTicksMax(), 0, 0, 0, c.healPerMille(), 0, c.pauseTicksMax(), 0, 0, 0, 0, 0, 0, 0, 0,
        c.electionTicksMin(), c.electionTicksMax(), c.heartbeatTicks(), c.inflightSlotsMax(),
        c.catchupEntriesMax(), c.messageEntriesMax());
    return new Simulator(seed, calm).runFailover(shape);
  }

  private SimResult runFailover(Failover shape) {
    try {
      faulty = false;
      network.stopFaults();
      int late = shape == Failover.LATE_MEMBER ? config.replicas() : 0;
      for (int id = 1; id <= config.replicas(); id++) {
        if (id != late && (id == 1 || shape != Failover.STAGGERED_START)) {
          event++;
          start(nodes[id], false);
        }
      }
      SimNode crashed;
      switch (shape) {
        case NEW_CLUSTER -> {
          crashed = awaitLeader("after a brand-new cluster started");
          crashLeader(crashed);
        }
        case STAGGERED_START -> {
          long firstStart = now;
          for (int id = 2; id <= config.replicas(); id++) {
            while (now < firstStart + (id - 1L) * STAGGER_ELECTIONS * config.electionTicksMax()) {
              step();
            }
            event++;
            start(nodes[id], false);
          }
          crashed = awaitLeader("after the replicas started one after another");
          crashLeader(crashed);
        }
        case LATE_MEMBER -> {
          awaitLive("after all but the last replica started");
          event++;
          start(nodes[late], false);
          awaitVoters(JOIN_ELECTIONS * (long) config.electionTicksMax() + catchupTicks(),
              "after replica " + late + " started late");
          crashed = awaitLeader("after replica " + late + " joined");
          crashLeader(crashed);
        }
        default -> {
          awaitLive("after the cluster started");
          awaitVoters(config.quietTicksMax() + catchupTicks(), "after the cluster started");
          crashed = crashWhenCommitsDiffer(true);
        }
      }
      awaitLive("after leader " + crashed.id + " crashed");
      event++;
      start(crashed, false);
      awaitLive("after the crashed leader " + crashed.id + " restarted");
      return result(true, -1, null);
    } catch (InvariantViolation v) {
      return result(false, event, v.getMessage());
    } catch (RuntimeException e) {
      return result(false, event, "replica threw " + e);
    }
  }

  /** Election timeouts the empty-majority scenario watches for a leader that must not appear. */
  static final int EMPTY_MAJORITY_WATCH_ELECTIONS = 30;

  /**
   * The finding "a second history from empty disks", as a calm seeded run of three replicas:
   * replicas 1 and 2 found the cluster (3, created with them, has not started) and decide writes;
   * 1's disk is wiped and 2 crashes; 1 restarts (an empty disk of the existing cluster) and 3
   * starts for the first time (a founder). 1 and 3 are a majority with nothing on disk: no leader
   * may appear and nothing may be decided, before or after 2 returns (2 alone is no majority, and
   * 1 and 3 are not admitted without a leader: the operator's recovery). Agreement and the other
   * invariants are checked after every event, as in every run.
   */
  public static SimResult emptyMajority(long seed) {
    SimConfig c = SimConfig.forSeed(seed, 3, 1);
    SimConfig calm = new SimConfig(3, 1, c.quietTicksMax(), c.delayTicksMax(), 0,
        c.longDelayTicksMax(), 0, 0, 0, c.healPerMille(), 0, c.pauseTicksMax(), 0, 0, 0, 0, 0, 0, 0, 0,
        c.electionTicksMin(), c.electionTicksMax(), c.heartbeatTicks(), c.inflightSlotsMax(),
        c.catchupEntriesMax(), c.messageEntriesMax());
    return new Simulator(seed, calm).runEmptyMajority();
  }

  private SimResult runEmptyMajority() {
    try {
      faulty = false;
      network.stopFaults();
      for (int id = 1; id <= 2; id++) {
        event++;
        start(nodes[id], false);
      }
      awaitLive("after replicas 1 and 2 founded the cluster");
      awaitLive("after a second write");
      long decided = invariants.decidedSlots();
      event++;
      crash(nodes[1]);
      nodes[1].disk.wipe();
      wipes++;
      event++;
      crash(nodes[2]);
      event++;
      start(nodes[1], false);
      event++;
      start(nodes[3], false);
      watchForNoLeader("replicas 1 (wiped) and 3 (never started) are a majority with empty disks", decided);
      event++;
      start(nodes[2], false);
      watchForNoLeader("replica 2 returned alone among replicas that may not vote", decided);
      return result(true, -1, null);
    } catch (InvariantViolation v) {
      return result(false, event, v.getMessage());
    } catch (RuntimeException e) {
      return result(false, event, "replica threw " + e);
    }
  }

  /** For EMPTY_MAJORITY_WATCH_ELECTIONS election timeouts: no leader, nothing newly decided. */
  private void watchForNoLeader(String situation, long decided) {
    long end = now + EMPTY_MAJORITY_WATCH_ELECTIONS * (long) config.electionTicksMax();
    while (now < end) {
      step();
      if (!leaders().isEmpty() || invariants.decidedSlots() != decided) {
        throw new InvariantViolation("a second history: " + situation + ", yet replica "
            + (leaders().isEmpty() ? "-" : leaders().get(0).id) + " leads and " + invariants.decidedSlots()
            + " slots are decided (were " + decided + "); " + livenessReport());
      }
    }
  }

  /**
   * The drill every seed run ends with: every replica becomes a voter (a fresh one joins the live
   * leader), then the leader crashes at the moment its followers' commit indexes differ; the
   * survivors must elect a leader within {@link #FAILOVER_ELECTIONS} election timeouts and go on
   * deciding; the crashed leader restarts and catches up.
   */
  private void failoverDrill() {
    awaitVoters(config.quietTicksMax() + catchupTicks(), "after the faults stopped");
    SimNode crashed = crashWhenCommitsDiffer(false);
    awaitLive("after leader " + crashed.id + " crashed");
    event++;
    start(crashed, false);
    awaitLive("after the crashed leader " + crashed.id + " restarted");
  }

  /**
   * Proposes writes at the leader and crashes the leader as soon as two of its followers know
   * different commit indexes; then awaits a new leader among the survivors. If the followers never
   * differ within a few tries, a strict caller (a scenario) fails, the drill crashes the leader anyway.
   */
  private SimNode crashWhenCommitsDiffer(boolean strict) {
    for (int attempt = 0; attempt < 10; attempt++) {
      SimNode leader = awaitLeader("before the failover");
      proposeMarker();
      long giveUpAt = now + 2L * config.electionTicksMax();
      while (!followersDiffer(leader) && now <= giveUpAt && leader.replica.isLeader()) {
        step();
      }
      if (leader.replica.isLeader() && (followersDiffer(leader) || !strict)) {
        crashLeader(leader);
        return leader;
      }
    }
    throw new InvariantViolation("scenario: the followers' commit indexes never differed");
  }

  private boolean followersDiffer(SimNode leader) {
    long seen = -1;
    for (int id = 1; id <= config.replicas(); id++) {
      if (id == leader.id || !nodes[id].up()) {
        continue;
      }
      long c = nodes[id].replica.status().commitIndex();
      if (seen >= 0 && c != seen) {
        return true;
      }
      seen = c;
    }
    return false;
  }

  /** Crashes the leader; the survivors must elect one within FAILOVER_ELECTIONS election timeouts. */
  private void crashLeader(SimNode leader) {
    StringBuilder survivors = new StringBuilder();
    for (int id = 1; id <= config.replicas(); id++) {
      if (id != leader.id && nodes[id].up()) {
        survivors.append(survivors.length() == 0 ? "" : ", ").append(id).append(": ")
            .append(nodes[id].replica.isFresh() ? "fresh, " : "").append("commit ")
            .append(nodes[id].replica.status().commitIndex());
      }
    }
    event++;
    crash(leader);
    long allowed = FAILOVER_ELECTIONS * (long) config.electionTicksMax();
    long deadline = now + allowed;
    while (leaders().isEmpty()) {
      if (now > deadline) {
        throw new InvariantViolation("liveness: no leader " + allowed + " ticks after leader "
            + leader.id + " crashed (survivors then: " + survivors + "); " + livenessReport());
      }
      step();
    }
  }

  private SimNode awaitLeader(String after) {
    long allowed = config.quietTicksMax();
    long deadline = now + allowed;
    while (leaders().size() != 1) {
      if (now > deadline) {
        throw new InvariantViolation("liveness: no single leader " + allowed + " ticks " + after
            + "; " + livenessReport());
      }
      step();
    }
    return leaders().get(0);
  }

  /** Every replica that is up must become a voter (fresh ones join) within {@code allowed} ticks. */
  private void awaitVoters(long allowed, String after) {
    long deadline = now + allowed;
    while (true) {
      boolean all = true;
      for (int id = 1; id <= config.replicas(); id++) {
        all &= !nodes[id].up() || !nodes[id].replica.isFresh();
      }
      if (all) {
        return;
      }
      if (now > deadline) {
        throw new InvariantViolation("liveness: a replica was still fresh (not voting) " + allowed
            + " ticks " + after + "; " + livenessReport());
      }
      step();
    }
  }

  /**
   * The time catching up may take on top of quietTicksMax: a wiped or long-partitioned replica
   * learns at most catchupEntriesMax decided entries per round trip.
   */
  private long catchupTicks() {
    long behind = 0;
    for (int id = 1; id <= total; id++) {
      behind = Math.max(behind, invariants.decidedSlots() - nodes[id].appliedIndex);
    }
    long replies = (behind + config.catchupEntriesMax() - 1) / config.catchupEntriesMax();
    return replies * 2L * (config.delayTicksMax() + 1);
  }

  private boolean live() {
    long slot = markerId == 0 ? 0 : invariants.slotOf(markerId);
    if (slot == 0) {
      return false;
    }
    long needed = Math.max(slot, invariants.maxAckedSlot());
    for (int id = 1; id <= total; id++) {
      // Everyone in the cluster catches up; a node removed from it is left where it is.
      if (nodes[id].up() && decidedMembership.contains(id) && nodes[id].appliedIndex < needed) {
        return false;
      }
    }
    return true;
  }

  private String livenessReport() {
    StringBuilder s = new StringBuilder("marker value " + markerId + " decided at slot "
        + invariants.slotOf(markerId) + ", acknowledged writes up to slot " + invariants.maxAckedSlot()
        + ", membership " + decidedMembership + " decided at slot " + decidedMembershipSlot);
    for (int id = 1; id <= total; id++) {
      SimNode n = nodes[id];
      if (!n.up()) {
        s.append("; node ").append(id).append(" down");
        continue;
      }
      s.append("; node ").append(id).append(' ').append(n.replica.status()).append(" applied ")
          .append(n.appliedIndex).append(n.replica.isFresh() ? " (fresh)" : "");
    }
    return s.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Replicas and their driver loop

  private void start(SimNode n, boolean mayWipe) {
    if (mayWipe && roll(config.wipePerMille()) && wipeIsSafe(n)) {
      n.disk.wipe();
      wipes++;
      record(4, n.id, 1);
    } else {
      record(4, n.id, 0);
    }
    DurableState recovered = n.disk.recover();
    n.replica = new Replica(replicaConfig(n.id), recovered.withMembership(n.disk.snapshotMembership()),
        RandomSource.seeded(random.nextLong()));
    n.restoreFromSnapshot();
    if (n.replica.status().ballot().isBelow(recovered.promised())) {
      throw new InvariantViolation("node " + n.id + " restarted with promise "
          + n.replica.status().ballot() + " below its durable " + recovered.promised());
    }
    drive(n);
  }

  private ReplicaConfig replicaConfig(int id) {
    return new ReplicaConfig(id, members, config.electionTicksMin(), config.electionTicksMax(),
        config.heartbeatTicks(), config.inflightSlotsMax(), config.catchupEntriesMax(),
        config.messageEntriesMax());
  }

  /** See the class comment. */
  private boolean wipeIsSafe(SimNode target) {
    int others = config.replicas() - 1;
    if (others < 2) {
      return false; // the only copy, or one of two: nothing would be left to catch up from
    }
    long knownSlot = target.disk.highestSlot();
    int committed = 0;
    int promised = 0;
    for (int id = 1; id <= config.replicas(); id++) {
      SimDisk d = nodes[id].disk;
      if (id == target.id) {
        continue;
      }
      if (d.fresh()) {
        return false; // two amnesiacs (or a never-started replica) could form a majority
      }
      committed += d.commitIndex() >= knownSlot ? 1 : 0;
      promised += d.promised().isBelow(target.disk.promised()) ? 0 : 1;
    }
    int majorityOfOthers = others / 2 + 1;
    return config.replicas() == 3
        || (committed >= majorityOfOthers && promised >= majorityOfOthers);
  }

  private void crash(SimNode n) {
    crashes++;
    record(5, n.id, 0);
    n.crash();
  }

  private void deliver(SimNetwork.InFlight m) {
    SimNode n = nodes[m.to()];
    if (n.up() && n.paused(now)) {
      network.hold(m, n.pausedUntil);
      return;
    }
    record(6, m.from() * 16L + m.to(), Arrays.hashCode(m.bytes()));
    if (!n.up()) {
      return;
    }
    Message decoded = MessageCodec.decode(m.bytes());
    n.replica.step(decoded);
    drive(n);
  }

  /** The driver: send Accepts, persist, send the rest, apply, answer reads, advance. */
  private void drive(SimNode n) {
    int rounds = 0;
    while (n.up() && n.replica.hasReady()) {
      if (++rounds > DRIVE_ROUNDS_MAX) {
        throw new InvariantViolation("node " + n.id + ": Ready/advance did not settle in "
            + DRIVE_ROUNDS_MAX + " rounds");
      }
      Replica.Ready r = n.replica.ready();
      for (Message m : r.sendBeforePersist()) {
        network.send(m.from(), m.to(), MessageCodec.encode(m), now);
      }
      if (faulty && roll(config.crashInReadyPerMille())) {
        crash(n); // before persisting: the Ready is lost, its Accepts may be out
        return;
      }
      long durableCommitBefore = n.disk.commitIndex();
      n.disk.persist(n.id, r, invariants);
      if (faulty && roll(config.crashInReadyPerMille())) {
        crash(n); // persisted, but nothing else was sent
        return;
      }
      for (Message m : r.sendAfterPersist()) {
        network.send(m.from(), m.to(), MessageCodec.encode(m), now);
      }
      for (Entry e : r.committed()) {
        n.appliedHash = invariants.applied(n.id, n.appliedIndex, n.appliedHash, e);
        n.appliedIndex = e.slot();
        if (Membership.isConfigValue(e.value())) {
          n.appliedMembership = Membership.decode(e.value());
          if (e.slot() > decidedMembershipSlot) {
            decidedMembership = n.appliedMembership;
            decidedMembershipSlot = e.slot();
          }
        }
      }
      invariants.durableCommit(n.id, n.disk, durableCommitBefore);
      for (Replica.ReadState read : r.reads()) {
        if (invariants.readAnswered(n.id, read)) {
          readsOk++;
        } else {
          readsRefused++;
        }
      }
      n.replica.advance();
      if (r.snapshotNeeded() >= 0) {
        installSnapshot(n, r.snapshotNeeded());
      }
      if (n.replica.isLeader() && !n.wasLeader) {
        elections++;
      }
      n.wasLeader = n.replica.isLeader();
    }
  }

  /** Fetches the leader's snapshot (if it has one that covers {@code needed}) and installs it. */
  private void installSnapshot(SimNode n, long needed) {
    int leader = n.replica.snapshotSource();
    if (leader < 1 || leader == n.id || !nodes[leader].up() || n.replica.isLeader()) {
      return; // the replica will ask again
    }
    SimDisk source = nodes[leader].disk;
    long slot = source.snapshotSlot();
    if (slot < needed || slot <= n.appliedIndex) {
      return;
    }
    invariants.snapshotInstalled(n.id, slot, source.snapshotHash());
    n.disk.snapshot(slot, source.snapshotHash(), source.snapshotMembership());
    n.appliedIndex = slot;
    n.appliedHash = source.snapshotHash();
    n.appliedMembership = source.snapshotMembership();
    n.replica.snapshotInstalled(slot, source.snapshotMembership());
    snapshotsInstalled++;
    record(7, n.id, slot);
  }

  // ---------------------------------------------------------------------------------------------
  // Clients

  /** Clients write to every replica that believes it leads, so stale leaders compete for slots. */
  private void propose(int values) {
    for (SimNode leader : leaders()) {
      for (int i = 0; i < values && leader.up(); i++) {
        long id = nextValueId;
        if (!leader.replica.propose(Invariants.clientValue(id))) {
          break;
        }
        nextValueId++;
        record(8, leader.id, id);
      }
      drive(leader);
    }
  }

  private void proposeMarker() {
    SimNode leader = pickLeader();
    if (leader == null || !leader.replica.propose(Invariants.clientValue(nextValueId))) {
      return;
    }
    event++;
    markerId = nextValueId++;
    markerProposedAt = now;
    record(9, leader.id, markerId);
    drive(leader);
  }

  /** Mostly at a replica that believes it leads (a stale one must not answer), else anywhere. */
  private void read() {
    List<SimNode> leaders = leaders();
    SimNode n = !leaders.isEmpty() && random.nextInt(4) != 0
        ? leaders.get(random.nextInt(leaders.size())) : pick(true);
    if (n == null) {
      return;
    }
    long readId = nextReadId++;
    invariants.readRequested(readId);
    record(10, n.id, readId);
    n.replica.requestRead(readId);
    drive(n);
  }

  /** A replica snapshots its applied state and compacts its log. */
  private void compact() {
    SimNode n = pick(true);
    if (n == null || n.appliedIndex <= n.disk.snapshotSlot()) {
      return;
    }
    compactions++;
    record(11, n.id, n.appliedIndex);
    n.disk.snapshot(n.appliedIndex, n.appliedHash, n.appliedMembership);
    n.replica.compact(n.appliedIndex);
    drive(n);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private List<SimNode> leaders() {
    List<SimNode> leaders = new ArrayList<>();
    for (int id = 1; id <= total; id++) {
      if (nodes[id].up() && !nodes[id].paused(now) && nodes[id].replica.isLeader()) {
        leaders.add(nodes[id]);
      }
    }
    return leaders;
  }

  /** A replica to crash or pause: a leader half the time (if there is one), else any. */
  private SimNode pickVictim() {
    SimNode leader = random.nextInt(2) == 0 ? pickLeader() : null;
    return leader != null ? leader : pick(true);
  }

  private SimNode pickLeader() {
    List<SimNode> leaders = leaders();
    return leaders.isEmpty() ? null : leaders.get(random.nextInt(leaders.size()));
  }

  /** A random replica that is up and running (or down), or null if there is none. */
  private SimNode pick(boolean up) {
    List<SimNode> candidates = new ArrayList<>();
    for (int id = 1; id <= total; id++) {
      if (up ? nodes[id].up() && !nodes[id].paused(now) : !nodes[id].up()) {
        candidates.add(nodes[id]);
      }
    }
    return candidates.isEmpty() ? null : candidates.get(random.nextInt(candidates.size()));
  }

  private boolean roll(int perMille) {
    return perMille > 0 && random.nextInt(1000) < perMille;
  }

  private void record(long kind, long a, long b) {
    trace = Invariants.mix(trace ^ kind) ^ Invariants.mix(a * 31 + b);
  }

  private SimResult result(boolean passed, long failedAt, String violation) {
    SimStats stats = new SimStats(invariants.decidedSlots(), invariants.acked(), elections, crashes,
        wipes, partitions, compactions, snapshotsInstalled, readsOk, readsRefused, network.sent(),
        network.dropped(), reconfigs);
    return new SimResult(seed, config, passed, failedAt, violation, event, now, trace, stats);
  }
}
