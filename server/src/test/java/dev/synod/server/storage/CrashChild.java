package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.unindexed;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The process that {@link DurableStoreCrashTest} kills: it writes through a DurableStore and
 * reports on stdout what is durable, so the parent can check that recovery keeps all of it.
 */
public final class CrashChild {
  static final int BATCH = 10;
  static final long SEGMENT_BYTES = 4096;

  private CrashChild() {}

  /**
   * {@code append <dir>}: appends batches forever, printing "synced I" (the last index) after each
   * fsync. {@code snapshot <dir> <fault point>}: log 1..200 with a snapshot at slot 100, then a
   * snapshot at slot 200 and the truncation of the log before index 101 (what the snapshot at 100
   * still needs), halting the JVM at the fault point.
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "append" -> {
        try (DurableStore store = DurableStore.open(dir, SEGMENT_BYTES, FaultInjector.NONE)) {
          for (long index = store.lastIndex() + 1; ; index += BATCH) {
            store.appendAndSync(unindexed(index, index + BATCH - 1));
            System.out.println("synced " + store.lastIndex());
            System.out.flush();
          }
        }
      }
      case "snapshot" -> {
        FaultInjector halt = FaultInjector.haltAt(args[2]);
        AtomicBoolean armed = new AtomicBoolean(); // only the second snapshot is cut short
        try (DurableStore store =
            DurableStore.open(
                dir,
                SEGMENT_BYTES,
                point -> {
                  if (armed.get()) {
                    halt.at(point);
                  }
                })) {
          store.appendAndSync(unindexed(1, 100));
          store.writeSnapshot(snapshot(100, 50, 1));
          store.appendAndSync(unindexed(101, 200));
          armed.set(true);
          store.writeSnapshot(snapshot(200, 50, 1));
          store.truncateLogBefore(101);
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
