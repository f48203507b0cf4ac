package dev.synod.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One measured phase: a system, a workload and a client count. {@code workload} is a
 * {@link Workload#id()}, except that the watch workload yields two rows: {@code watch-event}
 * (latency of each watcher's event, rate of events) and {@code watch-all} (time until the last
 * watcher heard of a write, rate of writes).
 */
public record PhaseResult(String system, String workload, int clients, long ops, double seconds,
    double p50Ms, double p99Ms, double p999Ms, long errors, double serverCpuS, double loadGenCpuS) {

  /** The CSV header, in {@link #toCsv()} order. */
  public static final String CSV_HEADER = "system,workload,clients,ops,seconds,ops_per_s,p50_ms,p99_ms,"
      + "p999_ms,errors,server_cpu_s,loadgen_cpu_s";

  /** Operations per second over the measured window. */
  public double opsPerSecond() {
    return seconds > 0 ? ops / seconds : 0;
  }

  /** Operations per CPU-second of the servers (0 when the CPU was not measured). */
  public double opsPerServerCpuSecond() {
    return serverCpuS > 0 ? ops / serverCpuS : 0;
  }

  /** One CSV line (no newline). */
  public String toCsv() {
    return String.format(Locale.ROOT, "%s,%s,%d,%d,%.3f,%.1f,%.3f,%.3f,%.3f,%d,%.2f,%.2f",
        system, workload, clients, ops, seconds, opsPerSecond(), p50Ms, p99Ms, p999Ms, errors,
        serverCpuS, loadGenCpuS);
  }

  /** Parses a line written by {@link #toCsv()}. */
  public static PhaseResult parseCsv(String line) {
    String[] f = line.trim().split(",");
    if (f.length != 12) {
      throw new IllegalArgumentException("expected 12 CSV fields, got " + f.length + ": " + line);
    }
    try {
      return new PhaseResult(f[0], f[1], Integer.parseInt(f[2]), Long.parseLong(f[3]),
          Double.parseDouble(f[4]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
          Double.parseDouble(f[8]), Long.parseLong(f[9]), Double.parseDouble(f[10]),
          Double.parseDouble(f[11]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad number in CSV line: " + line, e);
    }
  }

  /** Parses a whole CSV file's lines, skipping the header and blank lines. */
  public static List<PhaseResult> parseCsv(List<String> lines) {
    List<PhaseResult> out = new ArrayList<>();
    for (String l : lines) {
      if (!l.isBlank() && !l.startsWith("system,")) {
        out.add(parseCsv(l));
      }
    }
    return out;
  }
}
