package dev.synod.server.storage;

import static dev.synod.server.storage.StorageTestData.snapshot;
import static dev.synod.server.storage.StorageTestData.txns;

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
   * {@code append <dir>}: appends batches forever, printing "synced Z" after each fsync. {@code
   * snapshot <dir> <fault point>}: log 1..200 with a snapshot at 100, then a snapshot at 200 that
   * halts the JVM at the fault point.
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "append" -> {
        try (DurableStore store = DurableStore.open(dir, SEGMENT_BYTES, FaultInjector.NONE)) {
          for (long zxid = store.lastZxid() + 1; ; zxid += BATCH) {
            store.appendAndSync(txns(zxid, zxid + BATCH - 1));
            System.out.println("synced " + (zxid + BATCH - 1));
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
          store.appendAndSync(txns(1, 100));
          store.writeSnapshot(snapshot(100, 50, 1));
          store.appendAndSync(txns(101, 200));
          armed.set(true);
          store.writeSnapshot(snapshot(200, 50, 1));
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
