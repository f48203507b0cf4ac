package dev.synod.bench;

import com.google.protobuf.ByteString;
import dev.synod.server.storage.WriteAheadLog;
import dev.synod.txn.v1.AcceptedEntry;
import dev.synod.txn.v1.BallotRecord;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The write-ahead log's cost per durable write, alone: appends one record of {@code valueBytes}
 * and syncs it (one write, one fsync), {@code writes} times, in a fresh log in {@code dir} (put it
 * on the disk the server uses), and prints the percentiles of append+sync. Issue 10: this is the
 * floor a single client's write pays once per member.
 *
 * <p>{@code java -cp tools/bench/target/synod-bench.jar dev.synod.bench.LogSyncBench --dir
 * /work/tmp-logsync --writes 3000 --value-bytes 100}
 */
public final class LogSyncBench {
  private LogSyncBench() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of("logsync-bench");
    int writes = 3000;
    int valueBytes = 100;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--writes" -> writes = Integer.parseInt(args[i + 1]);
        case "--value-bytes" -> valueBytes = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException(
            "unknown flag " + args[i] + " (flags: --dir PATH --writes N --value-bytes N)");
      }
    }
    deleteRecursively(dir);
    ByteString value = ByteString.copyFrom(new byte[valueBytes]);
    long[] nanos = new long[writes];
    try (WriteAheadLog log = WriteAheadLog.open(dir)) {
      for (int i = 0; i < writes; i++) {
        LogEntry entry = LogEntry.newBuilder().setIndex(i + 1L).setAccepted(AcceptedEntry
            .newBuilder().setSlot(i + 1L).setBallot(BallotRecord.newBuilder().setRound(1).setNode(1))
            .setValue(value)).build();
        long start = System.nanoTime();
        log.append(List.of(entry));
        log.sync();
        nanos[i] = System.nanoTime() - start;
      }
    }
    deleteRecursively(dir);
    Arrays.sort(nanos);
    System.out.printf(Locale.ROOT, "log append+sync of %d B, %d writes: p50 %.1f us, p90 %.1f us,"
        + " p99 %.1f us%n", valueBytes, writes, nanos[writes / 2] / 1e3,
        nanos[writes * 9 / 10] / 1e3, nanos[writes * 99 / 100] / 1e3);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted((a, b) -> b.compareTo(a)).toList()) {
        Files.delete(p);
      }
    }
  }
}
