package dev.synod.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a server's time and bytes go, from a JFR recording (settings=profile): CPU samples by
 * thread and by method (self time, and the Synod frame nearest the top, so time in the JDK or
 * protobuf is charged to the Synod code that asked for it), allocation by thread and by site, and
 * GC pauses. Written for the write-path profiles in docs/benchmarks.md; JDK 17's {@code jfr}
 * tool has no such views, and JDK 25's {@code jfr view} fails on Synod's lambda frames.
 *
 * <pre>java -cp tools/bench/target/synod-bench.jar dev.synod.bench.JfrSummary FILE.jfr [top-n] [ops]</pre>
 * With {@code ops} (operations the server handled while recording) it also prints bytes per op.
 */
public final class JfrSummary {
  private static final String OWN_PACKAGE = "dev.synod.";

  private final Map<String, Long> samplesByThread = new HashMap<>();
  private final Map<String, Long> selfByMethod = new HashMap<>();
  private final Map<String, Long> ownByMethod = new HashMap<>();
  private final Map<String, Long> bytesByThread = new HashMap<>();
  private final Map<String, Long> bytesBySite = new HashMap<>();
  private final List<Duration> pauses = new ArrayList<>();
  private long samples;
  private long bytes;

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: JfrSummary FILE.jfr [top-n] [ops]");
      System.exit(2);
    }
    int top = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    long ops = args.length > 2 ? Long.parseLong(args[2]) : 0;
    JfrSummary s = new JfrSummary();
    for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
      s.add(e);
    }
    s.print(top, ops);
  }

  private void add(RecordedEvent e) {
    switch (e.getEventType().getName()) {
      case "jdk.ExecutionSample" -> {
        samples++;
        samplesByThread.merge(threadName(e.getThread("sampledThread")), 1L, Long::sum);
        RecordedStackTrace st = e.getStackTrace();
        if (st != null && !st.getFrames().isEmpty()) {
          selfByMethod.merge(method(st.getFrames().get(0)), 1L, Long::sum);
          ownByMethod.merge(ownFrame(st), 1L, Long::sum);
        }
      }
      case "jdk.ObjectAllocationSample" -> {
        long w = e.getLong("weight");
        bytes += w;
        bytesByThread.merge(threadName(e.getThread("eventThread")), w, Long::sum);
        RecordedStackTrace st = e.getStackTrace();
        if (st != null) {
          bytesBySite.merge(ownFrame(st) + " <- " + e.getClass("objectClass").getName(), w, Long::sum);
        }
      }
      case "jdk.GCPhasePause" -> pauses.add(e.getDuration());
      default -> { }
    }
  }

  private static String threadName(RecordedThread t) {
    if (t == null) {
      return "?";
    }
    // Pools number their threads: one line per pool.
    return t.getJavaName() == null ? "?" : t.getJavaName().replaceAll("[-#]?\\d+$", "-N");
  }

  private static String method(RecordedFrame f) {
    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
  }

  /** The topmost frame in Synod's own code (what the time or bytes were spent for). */
  private static String ownFrame(RecordedStackTrace st) {
    for (RecordedFrame f : st.getFrames()) {
      if (f.getMethod().getType().getName().startsWith(OWN_PACKAGE)) {
        return method(f);
      }
    }
    return method(st.getFrames().get(0));
  }

  private void print(int top, long ops) {
    System.out.printf(Locale.ROOT, "CPU samples: %d%n", samples);
    table("by thread", samplesByThread, samples, top, false);
    table("by method (self)", selfByMethod, samples, top, false);
    table("by Synod frame nearest the top", ownByMethod, samples, top, false);
    System.out.printf(Locale.ROOT, "%nAllocated (sampled estimate): %.1f MB%s%n", bytes / 1e6,
        ops > 0 ? String.format(Locale.ROOT, ", %.0f bytes per op over %d ops", (double) bytes / ops, ops) : "");
    table("by thread", bytesByThread, bytes, top, true);
    table("by site (Synod frame <- class)", bytesBySite, bytes, top, true);
    pauses.sort(Comparator.naturalOrder());
    if (!pauses.isEmpty()) {
      Duration total = pauses.stream().reduce(Duration.ZERO, Duration::plus);
      System.out.printf(Locale.ROOT, "%nGC pauses: %d, total %.1f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          pauses.size(), ms(total), ms(pauses.get(pauses.size() / 2)),
          ms(pauses.get(Math.min(pauses.size() - 1, (int) (pauses.size() * 0.99)))), ms(pauses.get(pauses.size() - 1)));
    }
  }

  private static double ms(Duration d) {
    return d.toNanos() / 1e6;
  }

  private static void table(String title, Map<String, Long> counts, long total, int top, boolean megabytes) {
    System.out.println("  " + title + ":");
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(top)
        .forEach(e -> System.out.printf(Locale.ROOT, "    %5.1f%%  %s  %s%n",
            total == 0 ? 0.0 : 100.0 * e.getValue() / total,
            megabytes ? String.format(Locale.ROOT, "%8.1f MB", e.getValue() / 1e6)
                : String.format(Locale.ROOT, "%8d", e.getValue()),
            e.getKey()));
  }
}
