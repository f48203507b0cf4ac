package dev.synod.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The load generator's settings, parsed from {@code --flag value} pairs.
 *
 * @param system which system the targets run ({@link SystemKind})
 * @param targets host:port of every server; client {@code i} talks to {@code targets[i % n]}
 * @param workloads the workloads to run, in order
 * @param clients client counts; every workload runs once per count (for watch: watchers)
 * @param durationS measured seconds per phase
 * @param warmupS unmeasured seconds before each phase's measurement
 * @param valueBytes size of every written value
 * @param keySpace number of pre-created keys that reads pick from (at least the largest client count)
 * @param serverPids the servers' process ids, to report the CPU they used during each phase (may be empty)
 * @param csvPath a CSV file to append one row per phase to, or null
 */
public record BenchOptions(SystemKind system, List<String> targets, List<Workload> workloads,
    List<Integer> clients, int durationS, int warmupS, int valueBytes, int keySpace,
    List<Long> serverPids, String csvPath) {

  static final String USAGE = """
      usage: LoadGen --system synod|zookeeper|etcd --target host:port[,host:port...]
                     [--workloads write,read,mixed,ephemeral,watch,lock] [--clients 1,4,16,64]
                     [--duration-s 10] [--warmup-s 3] [--value-bytes 100] [--key-space 256]
                     [--server-pids pid,pid,...] [--csv results.csv]""";

  public BenchOptions {
    targets = List.copyOf(targets);
    workloads = List.copyOf(workloads);
    clients = List.copyOf(clients);
    serverPids = List.copyOf(serverPids);
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("--target needs at least one host:port");
    }
    if (workloads.isEmpty() || clients.isEmpty()) {
      throw new IllegalArgumentException("--workloads and --clients must not be empty");
    }
    for (int c : clients) {
      if (c < 1) {
        throw new IllegalArgumentException("client counts must be at least 1, got " + c);
      }
    }
    if (durationS < 1 || warmupS < 0 || valueBytes < 16 || keySpace < 1) {
      throw new IllegalArgumentException("need --duration-s >= 1, --warmup-s >= 0, --value-bytes >= 16"
          + " (the watch workload stamps values), --key-space >= 1");
    }
    int maxClients = clients.stream().mapToInt(Integer::intValue).max().orElse(1);
    if (keySpace < maxClients) {
      throw new IllegalArgumentException("--key-space " + keySpace + " is smaller than the largest"
          + " client count " + maxClients + " (every writer needs its own key)");
    }
  }

  /** Parses the command line; throws {@link IllegalArgumentException} with the usage on bad input. */
  public static BenchOptions parse(String... args) {
    SystemKind system = null;
    String target = null;
    List<Workload> workloads = List.of(Workload.values());
    List<Integer> clients = List.of(1, 4, 16, 64);
    int duration = 10;
    int warmup = 3;
    int value = 100;
    Integer keySpace = null;
    List<Long> pids = List.of();
    String csv = null;
    if (args.length % 2 != 0) {
      throw new IllegalArgumentException("every flag needs a value\n" + USAGE);
    }
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--system" -> system = SystemKind.parse(v);
        case "--target" -> target = v;
        case "--workloads" -> {
          List<Workload> w = new ArrayList<>();
          for (String name : split(v)) {
            w.add(Workload.parse(name));
          }
          workloads = w;
        }
        case "--clients" -> clients = ints(args[i], v);
        case "--duration-s" -> duration = integer(args[i], v);
        case "--warmup-s" -> warmup = integer(args[i], v);
        case "--value-bytes" -> value = integer(args[i], v);
        case "--key-space" -> keySpace = integer(args[i], v);
        case "--server-pids" -> {
          List<Long> p = new ArrayList<>();
          for (String s : split(v)) {
            p.add((long) integer(args[i], s));
          }
          pids = p;
        }
        case "--csv" -> csv = v;
        default -> throw new IllegalArgumentException("unknown flag " + args[i] + "\n" + USAGE);
      }
    }
    if (system == null || target == null) {
      throw new IllegalArgumentException("--system and --target are required\n" + USAGE);
    }
    int maxClients = clients.stream().mapToInt(Integer::intValue).max().orElse(1);
    int keys = keySpace != null ? keySpace : Math.max(256, maxClients);
    return new BenchOptions(system, split(target), workloads, clients, duration, warmup, value, keys,
        pids, csv);
  }

  private static List<String> split(String v) {
    List<String> out = new ArrayList<>();
    for (String s : v.split(",")) {
      if (!s.isBlank()) {
        out.add(s.trim().toLowerCase(Locale.ROOT));
      }
    }
    return out;
  }

  private static List<Integer> ints(String flag, String v) {
    List<Integer> out = new ArrayList<>();
    for (String s : split(v)) {
      out.add(integer(flag, s));
    }
    return out;
  }

  private static int integer(String flag, String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a whole number, got '" + v + "'");
    }
  }
}
