package dev.synod.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the comparison's results page from the load generator's CSV: {@code results.md} (tables
 * with ratios), a copy of the CSV as {@code results.csv}, and {@code write-throughput.png}.
 *
 * <pre>
 *   java -cp tools/bench/target/synod-bench.jar dev.synod.bench.CompareReport \
 *       --csv run/results.csv [--cpu run/cpu.csv] [--note "text"] --out docs/benchmarks
 * </pre>
 */
public final class CompareReport {
  private CompareReport() {}

  public static void main(String[] args) throws Exception {
    Path csv = null;
    Path cpu = null;
    Path out = null;
    String note = "";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--csv" -> csv = Path.of(args[i + 1]);
        case "--cpu" -> cpu = Path.of(args[i + 1]);
        case "--out" -> out = Path.of(args[i + 1]);
        case "--note" -> note = args[i + 1];
        default -> {
          System.err.println("unknown flag " + args[i] + "; usage: CompareReport --csv FILE [--cpu FILE]"
              + " [--note TEXT] --out DIR");
          System.exit(2);
        }
      }
    }
    if (csv == null || out == null || args.length % 2 != 0) {
      System.err.println("usage: CompareReport --csv FILE [--cpu FILE] [--note TEXT] --out DIR");
      System.exit(2);
    }
    List<PhaseResult> results = PhaseResult.parseCsv(Files.readAllLines(csv));
    List<ResultsTable.SystemCpu> totals = new ArrayList<>();
    if (cpu != null && Files.exists(cpu)) {
      for (String l : Files.readAllLines(cpu)) {
        if (!l.isBlank() && !l.startsWith("system,")) {
          totals.add(ResultsTable.SystemCpu.parseCsv(l));
        }
      }
    }
    Files.createDirectories(out);
    Files.writeString(out.resolve("results.md"), markdown(results, totals, note));
    Files.writeString(out.resolve("results.csv"), String.join("\n", Files.readAllLines(csv)) + "\n");
    ThroughputPlot.write(results, "write", "Writes/s against clients: 3 servers, fsync on, 100-byte values",
        out.resolve("write-throughput.png"));
    System.out.println("wrote " + out.resolve("results.md") + ", results.csv and write-throughput.png");
  }

  static String markdown(List<PhaseResult> results, List<ResultsTable.SystemCpu> totals, String note) {
    ResultsTable t = new ResultsTable(results);
    StringBuilder sb = new StringBuilder("# Comparison run\n\n");
    if (!note.isBlank()) {
      sb.append(note).append("\n\n");
    }
    sb.append("## Throughput (operations per second)\n\n").append(t.throughput())
        .append("\n## Latency\n\n").append(t.latency())
        .append("\n## Server CPU per phase (measured window only)\n\n").append(t.cpu());
    if (!totals.isEmpty()) {
      sb.append("\n## Server CPU over each system's whole run\n\n").append(ResultsTable.totals(totals));
    }
    return sb.toString();
  }
}
