package dev.synod.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns the rows of one comparison run into markdown: throughput with Synod's ratio to ZooKeeper and
 * to etcd, latency percentiles, and the CPU the servers used. Rows keep the order in which the
 * (workload, clients) pairs first appear in the results.
 */
final class ResultsTable {
  /** A system's total server CPU over its whole run (setup and every phase), from the script. */
  record SystemCpu(String system, double serverCpuS, double wallS) {
    static SystemCpu parseCsv(String line) {
      String[] f = line.trim().split(",");
      if (f.length != 3) {
        throw new IllegalArgumentException("expected system,server_cpu_s,wall_s, got: " + line);
      }
      return new SystemCpu(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[2]));
    }
  }

  private record RowKey(String workload, int clients) {}

  private final List<String> systems = new ArrayList<>();
  private final Map<RowKey, Map<String, PhaseResult>> rows = new LinkedHashMap<>();

  ResultsTable(List<PhaseResult> results) {
    for (SystemKind k : SystemKind.values()) {
      if (results.stream().anyMatch(r -> r.system().equals(k.label()))) {
        systems.add(k.label());
      }
    }
    for (PhaseResult r : results) {
      rows.computeIfAbsent(new RowKey(r.workload(), r.clients()), k -> new LinkedHashMap<>())
          .put(r.system(), r);
    }
  }

  /** Throughput per system and Synod's ratio to each other system present. */
  String throughput() {
    StringBuilder sb = new StringBuilder();
    List<String> head = new ArrayList<>(List.of("workload", "clients"));
    systems.forEach(s -> head.add(s + " ops/s"));
    List<String> others = systems.stream().filter(s -> !s.equals(SystemKind.SYNOD.label())).toList();
    boolean synod = systems.contains(SystemKind.SYNOD.label());
    if (synod) {
      others.forEach(s -> head.add("Synod ÷ " + s));
    }
    line(sb, head);
    for (var e : rows.entrySet()) {
      List<String> cells = new ArrayList<>(List.of(e.getKey().workload(), Integer.toString(e.getKey().clients())));
      for (String s : systems) {
        cells.add(get(e.getValue(), s).map(r -> grouped(r.opsPerSecond())).orElse("–"));
      }
      if (synod) {
        for (String s : others) {
          cells.add(ratio(get(e.getValue(), SystemKind.SYNOD.label()), get(e.getValue(), s)));
        }
      }
      line(sb, cells);
    }
    return sb.toString();
  }

  /** p50 / p99 / p99.9 in milliseconds per system, and the errors seen. */
  String latency() {
    StringBuilder sb = new StringBuilder();
    List<String> head = new ArrayList<>(List.of("workload", "clients"));
    systems.forEach(s -> head.add(s + " p50 / p99 / p99.9 ms"));
    head.add("errors");
    line(sb, head);
    for (var e : rows.entrySet()) {
      List<String> cells = new ArrayList<>(List.of(e.getKey().workload(), Integer.toString(e.getKey().clients())));
      long errors = 0;
      for (String s : systems) {
        Optional<PhaseResult> r = get(e.getValue(), s);
        cells.add(r.map(x -> ms(x.p50Ms()) + " / " + ms(x.p99Ms()) + " / " + ms(x.p999Ms())).orElse("–"));
        errors += r.map(PhaseResult::errors).orElse(0L);
      }
      cells.add(Long.toString(errors));
      line(sb, cells);
    }
    return sb.toString();
  }

  /** Server CPU seconds per phase and operations per server CPU-second. */
  String cpu() {
    StringBuilder sb = new StringBuilder();
    List<String> head = new ArrayList<>(List.of("workload", "clients"));
    systems.forEach(s -> head.add(s + " CPU s"));
    systems.forEach(s -> head.add(s + " ops/CPU-s"));
    line(sb, head);
    for (var e : rows.entrySet()) {
      List<String> cells = new ArrayList<>(List.of(e.getKey().workload(), Integer.toString(e.getKey().clients())));
      for (String s : systems) {
        cells.add(get(e.getValue(), s).map(r -> String.format(Locale.ROOT, "%.1f", r.serverCpuS())).orElse("–"));
      }
      for (String s : systems) {
        cells.add(get(e.getValue(), s).map(r -> grouped(r.opsPerServerCpuSecond())).orElse("–"));
      }
      line(sb, cells);
    }
    return sb.toString();
  }

  /** Each system's total server CPU over its run. */
  static String totals(List<SystemCpu> totals) {
    StringBuilder sb = new StringBuilder();
    line(sb, List.of("system", "server CPU s", "wall s", "cores busy (avg)"));
    for (SystemCpu t : totals) {
      line(sb, List.of(t.system(), String.format(Locale.ROOT, "%.1f", t.serverCpuS()),
          String.format(Locale.ROOT, "%.1f", t.wallS()),
          String.format(Locale.ROOT, "%.2f", t.wallS() > 0 ? t.serverCpuS() / t.wallS() : 0)));
    }
    return sb.toString();
  }

  private static Optional<PhaseResult> get(Map<String, PhaseResult> bySystem, String system) {
    return Optional.ofNullable(bySystem.get(system));
  }

  static String ratio(Optional<PhaseResult> a, Optional<PhaseResult> b) {
    if (a.isEmpty() || b.isEmpty() || b.get().opsPerSecond() <= 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.2f×", a.get().opsPerSecond() / b.get().opsPerSecond());
  }

  static String grouped(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
  }

  private static void line(StringBuilder sb, List<String> cells) {
    sb.append("| ").append(String.join(" | ", cells)).append(" |\n");
    if (sb.indexOf("\n") == sb.length() - 1) {
      sb.append("|").append("---|".repeat(cells.size())).append('\n');
    }
  }
}
