package dev.synod.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time used by the servers under test (from {@code /proc/<pid>/stat}: utime + stime) and by
 * this load generator, so a phase can say what its throughput cost. With everything on one small
 * machine, throughput alone hides how much of the CPU each system needed for it.
 */
final class ServerCpu {
  private final List<Long> pids;
  private final long ticksPerSecond;

  ServerCpu(List<Long> pids) {
    this.pids = List.copyOf(pids);
    this.ticksPerSecond = pids.isEmpty() ? 100 : clockTicks();
  }

  /** CPU seconds the servers have used so far (0 when no pid was given or /proc is unreadable). */
  double serverSeconds() {
    long ticks = 0;
    for (long pid : pids) {
      try {
        ticks += parseTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
      } catch (IOException e) {
        return 0; // a server is gone: the phase reports no CPU rather than a wrong figure
      }
    }
    return (double) ticks / ticksPerSecond;
  }

  /** CPU seconds this JVM has used so far. */
  static double loadGeneratorSeconds() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime() / 1e9;
    }
    return 0;
  }

  /**
   * utime + stime of one {@code /proc/<pid>/stat} line. The command name (field 2) is in
   * parentheses and may hold spaces, so fields are counted from the last ')'.
   */
  static long parseTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    // f[0] is field 3 (state); utime is field 14 and stime field 15.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (IOException | NumberFormatException e) {
      return 100; // the Linux default
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
