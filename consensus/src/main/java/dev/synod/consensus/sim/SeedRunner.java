package dev.synod.consensus.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a range of seeds (each with the shape {@link SimConfig#forSeed} picks) and collects the
 * failures; shared by the test suite and the tools command so both run exactly the same thing.
 */
public final class SeedRunner {
  /** What a range of seeds did. */
  public record Summary(int passed, int failed, List<SimResult> failures, SimStats stats, long events) {
    /** The one-line summary, e.g. "1000 passed, 0 failed". */
    public String line() {
      return passed + " passed, " + failed + " failed";
    }
  }

  private SeedRunner() {}

  public static SimResult runOne(long seed, int replicas, int events) {
    return new Simulator(seed, SimConfig.forSeed(seed, replicas, events)).run();
  }

  /** One seed of {@link Simulator#reconfiguring}: membership changes and transfers on top of the faults. */
  public static SimResult runOneReconfiguring(long seed, int replicas, int events) {
    return Simulator.reconfiguring(seed, replicas, events);
  }

  /** As {@link #run(long, int, int, int, Consumer)}, for reconfiguring runs. */
  public static Summary runReconfiguring(long from, int seeds, int replicas, int events,
      Consumer<SimResult> onFailure) {
    List<SimResult> failures = new ArrayList<>();
    SimStats stats = SimStats.zero();
    long totalEvents = 0;
    for (long seed = from; seed < from + seeds; seed++) {
      SimResult r = runOneReconfiguring(seed, replicas, events);
      stats = stats.plus(r.stats());
      totalEvents += r.events();
      if (!r.passed()) {
        failures.add(r);
        onFailure.accept(r);
      }
    }
    return new Summary(seeds - failures.size(), failures.size(), failures, stats, totalEvents);
  }

  public static Summary run(long from, int seeds, int replicas, int events) {
    return run(from, seeds, replicas, events, failure -> { });
  }

  /** As {@link #run(long, int, int, int)}, telling {@code onFailure} about each failure as it happens. */
  public static Summary run(long from, int seeds, int replicas, int events, Consumer<SimResult> onFailure) {
    List<SimResult> failures = new ArrayList<>();
    SimStats stats = SimStats.zero();
    long totalEvents = 0;
    for (long seed = from; seed < from + seeds; seed++) {
      SimResult r = runOne(seed, replicas, events);
      stats = stats.plus(r.stats());
      totalEvents += r.events();
      if (!r.passed()) {
        failures.add(r);
        onFailure.accept(r);
      }
    }
    return new Summary(seeds - failures.size(), failures.size(), failures, stats, totalEvents);
  }

  /** The arguments that replay a failed seed alone. */
  public static String replayArgs(SimResult r) {
    return "--from " + r.seed() + " --seeds 1 --replicas " + r.config().replicas() + " --events "
        + r.config().events();
  }
}
