package dev.synod.consensus.sim;

import dev.synod.consensus.RandomSource;

/**
 * One simulation's shape. Rates are per mille, rolled once per tick (faults, client activity) or
 * once per message (network). Replica timing is in ticks.
 *
 * @param replicas cluster size (members 1..replicas)
 * @param events events in the faulty phase; then faults stop, everything heals and restarts
 * @param quietTicksMax ticks the quiet phase may take to show liveness before the run fails, plus
 *     a round trip per catch-up reply the most lagging replica needs
 * @param delayTicksMax a message is delivered 1..delayTicksMax ticks after it is sent
 * @param longDelayPerMille chance a message is held much longer, 1..longDelayTicksMax ticks, so
 *     stale Prepares and Accepts of earlier ballots arrive after newer ones
 * @param longDelayTicksMax see longDelayPerMille
 * @param dropPerMille chance a message is lost
 * @param duplicatePerMille chance a message is delivered twice
 * @param partitionPerMille chance per tick that a partition starts (if none is active)
 * @param healPerMille chance per tick that an active partition heals
 * @param pausePerMille chance per tick that a live replica pauses (a GC or VM stall): it neither
 *     ticks nor receives for 1..pauseTicksMax ticks, then resumes with its stale view (messages sent
 *     to it meanwhile arrive after it resumes)
 * @param pauseTicksMax see pausePerMille
 * @param skewPerMille chance per tick that a replica's tick is skipped (a slow clock)
 * @param crashPerMille chance per tick that a live replica crashes
 * @param crashInReadyPerMille chance per Ready that the replica crashes before persisting it
 *     (or right after, before sending)
 * @param restartPerMille chance per tick that a crashed replica restarts
 * @param wipePerMille chance a restart wipes the disk, when that is safe (see Simulator)
 * @param proposePerMille chance per tick that a client proposes (1..3 values) to the leader
 * @param readPerMille chance per tick of a linearizable read at a random replica
 * @param compactPerMille chance per tick that a replica snapshots and compacts its log
 * @param electionTicksMin replica setting
 * @param electionTicksMax replica setting
 * @param heartbeatTicks replica setting
 * @param inflightSlotsMax replica setting
 * @param catchupEntriesMax replica setting (small, so catch-up and phase-1 windows are exercised)
 * @param messageEntriesMax replica setting
 */
public record SimConfig(
    int replicas,
    int events,
    int quietTicksMax,
    int delayTicksMax,
    int longDelayPerMille,
    int longDelayTicksMax,
    int dropPerMille,
    int duplicatePerMille,
    int partitionPerMille,
    int healPerMille,
    int pausePerMille,
    int pauseTicksMax,
    int skewPerMille,
    int crashPerMille,
    int crashInReadyPerMille,
    int restartPerMille,
    int wipePerMille,
    int proposePerMille,
    int readPerMille,
    int compactPerMille,
    int electionTicksMin,
    int electionTicksMax,
    int heartbeatTicks,
    int inflightSlotsMax,
    int catchupEntriesMax,
    int messageEntriesMax) {
  public SimConfig {
    if (replicas < 1 || replicas > 9) {
      throw new IllegalArgumentException("replicas must be 1..9, got " + replicas);
    }
    if (events < 1) {
      throw new IllegalArgumentException("events must be >= 1, got " + events);
    }
    if (delayTicksMax < 1 || longDelayTicksMax < 1) {
      throw new IllegalArgumentException("delayTicksMax and longDelayTicksMax must be >= 1");
    }
  }

  /**
   * Swarm testing: the seed also picks the run's shape (timing, network, fault and client rates),
   * so across many seeds some runs are calm and some pathological (duelling candidates, long-stale
   * messages, constant crashes), which finds far more bugs than one fixed mix. Replaying a seed
   * picks the same shape.
   */
  public static SimConfig forSeed(long seed, int replicas, int events) {
    RandomSource r = RandomSource.seeded(~seed * 0x9E3779B97F4A7C15L);
    int delayMax = 1 + r.nextInt(5);
    // Elections must outlast a round trip, or candidates duel forever (in any real deployment too).
    int electionMin = 2 * delayMax + 2 + r.nextInt(8);
    int electionMax = electionMin + 1 + r.nextInt(electionMin);
    int heartbeat = 1 + r.nextInt(Math.min(3, electionMin / 2));
    return new SimConfig(replicas, events, 2000,
        delayMax, // delayTicksMax
        r.nextInt(3) == 0 ? 0 : r.nextInt(100), // longDelayPerMille
        10 + r.nextInt(60), // longDelayTicksMax
        r.nextInt(200), // dropPerMille
        r.nextInt(100), // duplicatePerMille
        r.nextInt(40), // partitionPerMille
        20 + r.nextInt(200), // healPerMille
        r.nextInt(3) == 0 ? 0 : r.nextInt(50), // pausePerMille
        electionMax + r.nextInt(4 * electionMax), // pauseTicksMax: often long enough for an election
        r.nextInt(2) == 0 ? 0 : r.nextInt(500), // skewPerMille
        r.nextInt(25), // crashPerMille
        r.nextInt(3) == 0 ? 0 : r.nextInt(15), // crashInReadyPerMille
        20 + r.nextInt(200), // restartPerMille
        r.nextInt(700), // wipePerMille
        100 + r.nextInt(900), // proposePerMille
        r.nextInt(600), // readPerMille
        r.nextInt(80), // compactPerMille
        electionMin, electionMax, heartbeat,
        1 + r.nextInt(32), // inflightSlotsMax
        1 + r.nextInt(16), // catchupEntriesMax
        1 + r.nextInt(8)); // messageEntriesMax
  }
}
