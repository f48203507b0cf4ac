package dev.synod.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The load generator: runs each workload at each client count against one system (Synod,
 * ZooKeeper or etcd, through a {@link Driver}) and prints throughput and latency percentiles per
 * phase; with {@code --csv} it also appends the rows there, for {@link CompareReport}.
 *
 * <pre>
 *   java -cp tools/bench/target/synod-bench.jar dev.synod.bench.LoadGen --system synod \
 *       --target 127.0.0.1:7070,127.0.0.1:7080,127.0.0.1:7090 --workloads write,read --clients 1,16
 * </pre>
 */
public final class LoadGen {
  /** How long setup keeps trying while a new cluster elects its first leader. */
  static final long SETUP_WAIT_MS = 60_000;

  private LoadGen() {}

  public static void main(String[] args) throws Exception {
    BenchOptions o;
    try {
      o = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    List<PhaseResult> results = new ArrayList<>();
    ServerCpu cpu = new ServerCpu(o.serverPids());
    try (Driver driver = Driver.create(o.system(), o.targets())) {
      prepare(o, driver);
      System.out.println(header(o));
      for (Workload workload : o.workloads()) {
        for (int clients : o.clients()) {
          List<PhaseResult> phase = workload == Workload.WATCH
              ? WatchFanOutPhase.run(o, driver, clients, cpu)
              : List.of(ClosedLoopPhase.run(o, driver, workload, clients, cpu));
          for (PhaseResult r : phase) {
            System.out.println(row(r));
            appendCsv(o.csvPath(), r);
          }
          results.addAll(phase);
        }
      }
    }
    // Session threads of some clients are not daemons; the run is over.
    System.exit(results.stream().anyMatch(r -> r.ops() == 0) ? 1 : 0);
  }

  /** Creates the paths and keys every workload expects, once the cluster accepts writes. */
  static void prepare(BenchOptions o, Driver driver) throws Exception {
    long deadline = System.currentTimeMillis() + SETUP_WAIT_MS;
    byte[] value = new byte[o.valueBytes()];
    while (true) {
      try (Session s = driver.open(0)) {
        for (String p : List.of(ClosedLoopPhase.ROOT, ClosedLoopPhase.KEYS, ClosedLoopPhase.EPHEMERALS,
            ClosedLoopPhase.LOCK)) {
          s.createIfAbsent(p, new byte[0]);
        }
        for (int k = 0; k < o.keySpace(); k++) {
          s.createIfAbsent(ClosedLoopPhase.key(k), value);
        }
        return;
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        System.err.println("  setup: " + e + " (retrying while the cluster starts)");
        Thread.sleep(500);
      }
    }
  }

  static String header(BenchOptions o) {
    return String.format(Locale.ROOT, "system=%s value=%dB duration=%ds warmup=%ds targets=%s%n"
        + "%-10s %-12s %8s %10s %9s %9s %9s %7s %9s", o.system().label(), o.valueBytes(), o.durationS(),
        o.warmupS(), String.join(",", o.targets()),
        "system", "workload", "clients", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "srv CPU s");
  }

  static String row(PhaseResult r) {
    return String.format(Locale.ROOT, "%-10s %-12s %8d %10.0f %9.2f %9.2f %9.2f %7d %9.1f", r.system(),
        r.workload(), r.clients(), r.opsPerSecond(), r.p50Ms(), r.p99Ms(), r.p999Ms(), r.errors(),
        r.serverCpuS());
  }

  private static void appendCsv(String csvPath, PhaseResult r) throws IOException {
    if (csvPath == null) {
      return;
    }
    Path p = Path.of(csvPath);
    if (p.getParent() != null) {
      Files.createDirectories(p.getParent());
    }
    String line = (Files.exists(p) && Files.size(p) > 0 ? "" : PhaseResult.CSV_HEADER + "\n") + r.toCsv() + "\n";
    Files.writeString(p, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
