package dev.synod.tools.sim;

import dev.synod.consensus.sim.SeedRunner;
import dev.synod.server.sim.ServerSeedRunner;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Runs a deterministic simulation over a range of seeds, as the test suite does but for as many
 * seeds as you like: the consensus module alone, or with {@code --server} the whole server (every
 * member's real replica loop and state machine, with clients, faults and the history checks). Prints each failure with the command that replays it, then one
 * summary line, "N passed, F failed"; exits 1 if any seed failed (2 on bad arguments).
 *
 * <pre>
 *   java -cp tools/target/synod-tools.jar dev.synod.tools.sim.SimulateMain --seeds 100000 --from 1
 *   java -cp tools/target/synod-tools.jar dev.synod.tools.sim.SimulateMain --from 4242 --seeds 1
 *   java -cp tools/target/synod-tools.jar dev.synod.tools.sim.SimulateMain --server --seeds 1000 --replicas 5
 * </pre>
 */
public final class SimulateMain {
  static final String USAGE = "usage: SimulateMain [--server | --reconfig] [--seeds N (1000)] [--from SEED (1)]"
      + " [--replicas R (3)] [--events E (5000; consensus only)]";

  /** Parsed arguments. */
  /** {@code reconfig}: runs with membership changes and leadership transfers (either simulator). */
  record Options(boolean server, int seeds, long from, int replicas, int events, boolean reconfig) {
    Options(boolean server, int seeds, long from, int replicas, int events) {
      this(server, seeds, from, replicas, events, false);
    }
  }

  private SimulateMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(USAGE);
      return 2;
    }
    if (o.server()) {
      return runServer(o, out, err);
    }
    long start = System.nanoTime();
    java.util.function.Consumer<dev.synod.consensus.sim.SimResult> report = failure -> {
      out.println(failure.describe());
      out.println("  replay: java -cp tools/target/synod-tools.jar " + SimulateMain.class.getName() + " "
          + (o.reconfig() ? "--reconfig " : "") + SeedRunner.replayArgs(failure));
    };
    SeedRunner.Summary s = o.reconfig()
        ? SeedRunner.runReconfiguring(o.from(), o.seeds(), o.replicas(), o.events(), report)
        : SeedRunner.run(o.from(), o.seeds(), o.replicas(), o.events(), report);
    double seconds = (System.nanoTime() - start) / 1e9;
    out.println(s.line());
    err.printf(Locale.ROOT, "%d seeds of %d replicas in %.1f s (%.0f seeds/s, %d events)%n", o.seeds(),
        o.replicas(), seconds, o.seeds() / Math.max(seconds, 1e-9), s.events());
    return s.failed() == 0 ? 0 : 1;
  }

  private static int runServer(Options o, PrintStream out, PrintStream err) {
    long start = System.nanoTime();
    ServerSeedRunner.Summary s = ServerSeedRunner.run(o.from(), o.seeds(), o.replicas(), o.reconfig(), failure -> {
      out.println(failure.describe());
      out.println("  replay: java -cp tools/target/synod-tools.jar " + SimulateMain.class.getName() + " "
          + (o.reconfig() ? "--reconfig " : "") + ServerSeedRunner.replayArgs(failure));
    });
    double seconds = (System.nanoTime() - start) / 1e9;
    out.println(s.line());
    err.printf(Locale.ROOT, "%d whole-server seeds of %d members in %.1f s (%.1f seeds/s, %d events,"
        + " %d writes acknowledged, %d reads, %d lock acquisitions, %d leader changes, %d crashes)%n",
        o.seeds(), o.replicas(), seconds, o.seeds() / Math.max(seconds, 1e-9), s.events(), s.acked(),
        s.reads(), s.lockAcquisitions(), s.leaderChanges(), s.crashes());
    return s.failed() == 0 ? 0 : 1;
  }

  static Options parse(String[] args) {
    boolean server = false;
    boolean reconfig = false;
    int seeds = 1000;
    long from = 1;
    int replicas = 3;
    int events = 5000;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new IllegalArgumentException("SimulateMain: deterministic simulation (consensus, or --server)");
      }
      if (flag.equals("--server")) {
        server = true;
        continue;
      }
      if (flag.equals("--reconfig")) {
        reconfig = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + flag);
      }
      String value = args[++i];
      try {
        switch (flag) {
          case "--seeds" -> seeds = Integer.parseInt(value);
          case "--from" -> from = Long.parseLong(value);
          case "--replicas" -> replicas = Integer.parseInt(value);
          case "--events" -> events = Integer.parseInt(value);
          default -> throw new IllegalArgumentException("unknown option " + flag);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + " needs a number, got " + value);
      }
    }
    if (seeds < 1 || replicas < 1 || replicas > 9 || events < 1) {
      throw new IllegalArgumentException("need --seeds >= 1, --replicas 1..9, --events >= 1");
    }
    return new Options(server, seeds, from, replicas, events, reconfig);
  }
}
