package dev.synod.server.storage;

import static dev.synod.server.storage.SnapshotStoreTest.assertSameSnapshot;
import static dev.synod.server.storage.StorageTestData.entries;
import static dev.synod.server.storage.StorageTestData.replayed;
import static dev.synod.server.storage.StorageTestData.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.txn.v1.LogEntry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real process death (SIGKILL, or {@link FaultInjector#haltAt}) in the middle of writing, then
 * recovery in this JVM. A kill keeps the page cache, so this proves the on-disk protocol (torn
 * writes, rename order), not fsync itself.
 */
class DurableStoreCrashTest {
  /** Enough acknowledged batches that the kill lands while appends are in full flow. */
  private static final int SYNCS_BEFORE_KILL = 200;

  private static final long CHILD_TIMEOUT_SECONDS = 20;

  @TempDir Path dir;

  @Test
  void killDuringAppendsLosesNothingThatWasSynced() throws Exception {
    Process child = start("append", dir.toString());
    long acknowledged = 0;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (int i = 0; i < SYNCS_BEFORE_KILL; i++) {
        String line = out.readLine();
        assertTrue(line != null && line.startsWith("synced "), "child said: " + line);
        acknowledged = Long.parseLong(line.substring("synced ".length()));
      }
      child.destroyForcibly(); // SIGKILL
      assertTrue(child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    }
    try (DurableStore store =
        DurableStore.open(dir, CrashChild.SEGMENT_BYTES, FaultInjector.NONE)) {
      long last = store.lastIndex();
      assertTrue(last >= acknowledged, "recovered " + last + " < acknowledged " + acknowledged);
      assertEquals(entries(1, last), replayed(store));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        SnapshotStore.TMP_WRITTEN, SnapshotStore.TMP_SYNCED, SnapshotStore.RENAMED,
        SnapshotStore.DIR_SYNCED, SnapshotStore.PRUNED, DurableStore.LOG_TRUNCATED
      })
  void haltDuringASnapshotRecoversEverything(String point) throws Exception {
    Process child = start("snapshot", dir.toString(), point);
    assertTrue(child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    assertEquals(137, child.exitValue(), "the child should have halted at " + point);

    boolean renamed =
        !point.equals(SnapshotStore.TMP_WRITTEN) && !point.equals(SnapshotStore.TMP_SYNCED);
    long expectedSnapshot = renamed ? 200 : 100;
    try (DurableStore store =
        DurableStore.open(dir, CrashChild.SEGMENT_BYTES, FaultInjector.NONE)) {
      assertSameSnapshot(snapshot(expectedSnapshot, 50, 1), store.loadSnapshot().orElseThrow());
      assertEquals(expectedSnapshot, store.snapshotSlot());
      assertEquals(200, store.lastIndex());
      // Whether or not the truncation happened, the log is a suffix ending at 200 that holds
      // everything after the snapshot at 100 (the fallback), let alone after the one loaded.
      List<LogEntry> kept = replayed(store);
      long first = kept.get(0).getIndex();
      assertTrue(first <= 101, "first kept index " + first);
      assertEquals(entries(first, 200), kept);
    }
  }

  private static Process start(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(
        System.getProperty(
            "synod.test.java", Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CrashChild.class.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }
}
