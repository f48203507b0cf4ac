package dev.synod.server.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.LongStream;

/**
 * Runs a range of seeds of the whole-server simulation and collects the failures; shared by the
 * test suite and the tools command, so both run exactly the same thing.
 */
public final class ServerSeedRunner {
  /** What a range of seeds did. */
  public record Summary(int passed, int failed, List<ServerSimulator.Result> failures, long events,
      long acked, long reads, long lockAcquisitions, long leaderChanges, long crashes,
      int realStoreSeeds, long realStoreSnapshotsInstalled) {
    /** The one-line summary, e.g. "1000 passed, 0 failed". */
    public String line() {
      return passed + " passed, " + failed + " failed";
    }
  }

  private ServerSeedRunner() {}

  /** Runs one seed, on the disks {@link ServerSimulator.Disks#fromProperty()} says. */
  public static ServerSimulator.Result runOne(long seed, int replicas) {
    return new ServerSimulator(seed, replicas, ServerSimulator.Disks.fromProperty()).run();
  }

  /**
   * Runs seeds {@code from .. from + seeds - 1}, on every core (each run is single-threaded and
   * independent, so the results do not depend on the scheduling); reports failures in seed order.
   */
  public static Summary run(long from, int seeds, int replicas, Consumer<ServerSimulator.Result> onFailure) {
    return run(from, seeds, replicas, false, onFailure);
  }

  /** Runs one reconfiguring seed (membership changes on top of the faults; see ServerSimulator). */
  public static ServerSimulator.Result runOneReconfiguring(long seed, int replicas) {
    return new ServerSimulator(seed, replicas, ServerSimulator.Disks.fromProperty(), true).run();
  }

  /** As {@link #run(long, int, int, Consumer)}; {@code reconfigure}: with membership changes. */
  public static Summary run(long from, int seeds, int replicas, boolean reconfigure,
      Consumer<ServerSimulator.Result> onFailure) {
    List<ServerSimulator.Result> failures = new ArrayList<>();
    long events = 0;
    long acked = 0;
    long reads = 0;
    long lockAcquisitions = 0;
    long leaderChanges = 0;
    long crashes = 0;
    int realStoreSeeds = 0;
    long realStoreSnapshotsInstalled = 0;
    int batch = Math.max(1, Runtime.getRuntime().availableProcessors()) * 64;
    for (long start = from; start < from + seeds; start += batch) {
      long end = Math.min(from + seeds, start + batch);
      List<ServerSimulator.Result> results = LongStream.range(start, end).parallel()
          .mapToObj(seed -> reconfigure ? runOneReconfiguring(seed, replicas) : runOne(seed, replicas)).sorted(Comparator.comparingLong(ServerSimulator.Result::seed))
          .toList();
      for (ServerSimulator.Result r : results) {
        events += r.events();
        acked += r.stats().acked();
        reads += r.stats().reads();
        lockAcquisitions += r.stats().lockAcquisitions();
        leaderChanges += r.stats().leaderChanges();
        crashes += r.stats().crashes();
        realStoreSeeds += r.realStores() ? 1 : 0;
        realStoreSnapshotsInstalled += r.realStores() ? r.stats().snapshotsInstalled() : 0;
        if (!r.passed()) {
          failures.add(r);
          onFailure.accept(r);
        }
      }
    }
    return new Summary(seeds - failures.size(), failures.size(), failures, events, acked, reads,
        lockAcquisitions, leaderChanges, crashes, realStoreSeeds,
        realStoreSnapshotsInstalled);
  }

  /** The arguments of the tools command that replay a failed seed alone. */
  public static String replayArgs(ServerSimulator.Result r) {
    return "--server --from " + r.seed() + " --seeds 1 --replicas " + r.replicas();
  }
}
