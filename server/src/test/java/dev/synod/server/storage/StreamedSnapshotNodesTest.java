package dev.synod.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.txn.v1.NodeRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot file too large to keep in memory after verification: its nodes are read from the
 * file again when visited, and that second read is checked against the first.
 */
class StreamedSnapshotNodesTest {
  @TempDir Path dir;

  private static final int NODES = 6_000; // a few hundred KB: several chunks

  /** Every node of {@code nodes} as visited raw: path and the record's bytes. */
  private static List<String> visitRaw(SnapshotNodes nodes) {
    List<String> seen = new ArrayList<>();
    nodes.forEachRaw((path, bytes, offset, length) ->
        seen.add(path + "=" + Arrays.toString(Arrays.copyOfRange(bytes, offset, offset + length))));
    return seen;
  }

  private Path write(Path into, Snapshot snapshot) throws IOException {
    SnapshotStore store = new SnapshotStore(into, FaultInjector.NONE);
    store.write(snapshot);
    return store.fileOf(snapshot.slot());
  }

  @Test
  void aSnapshotAboveTheMemoryBudgetIsReadAgainFromItsFileAndYieldsTheSameNodes()
      throws IOException {
    Snapshot written = StorageTestData.snapshot(7, NODES, 3);
    Path file = write(dir, written);

    Snapshot streamed = SnapshotFile.read(Disk.REAL, file, 7, 0);
    Snapshot kept = SnapshotFile.read(Disk.REAL, file, 7);

    assertInstanceOf(StreamedSnapshotNodes.class, streamed.nodeSource());
    assertInstanceOf(ChunkedSnapshotNodes.class, kept.nodeSource());
    assertEquals(NODES, streamed.nodeCount());
    List<String> expected = visitRaw(kept.nodeSource());
    assertEquals(expected, visitRaw(streamed.nodeSource()));
    assertEquals(expected, visitRaw(streamed.nodeSource()), "every pass yields the same nodes");
    SnapshotStoreTest.assertSameSnapshot(written, streamed);
  }

  @Test
  void aFileChangedAfterVerificationFailsThePassRatherThanYieldOtherNodes() throws IOException {
    Path file = write(dir, StorageTestData.snapshot(7, NODES, 0));
    Snapshot streamed = SnapshotFile.read(Disk.REAL, file, 7, 0);

    // Another valid snapshot file of the same slot, put in its place: only the nodes differ.
    SortedMap<String, NodeRecord> other = new TreeMap<>(StorageTestData.snapshot(7, NODES, 0)
        .nodes());
    other.put("/app/0/n-50", other.get("/app/0/n-50").toBuilder()
        .setData(ByteString.copyFromUtf8("other")).build());
    Path elsewhere = write(dir.resolve("other"),
        new Snapshot(StorageTestData.zxidAt(7), 7, other, List.of()));
    Files.copy(elsewhere, file, StandardCopyOption.REPLACE_EXISTING);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> streamed.nodeSource().forEachRaw((path, bytes, offset, length) -> { }));
    assertTrue(e.getMessage().contains("changed since it was verified"), e.getMessage());
  }

  @Test
  void aVisitorThatStopsEndsTheReadingThread() throws Exception {
    Path file = write(dir, StorageTestData.snapshot(7, NODES, 0));
    Snapshot streamed = SnapshotFile.read(Disk.REAL, file, 7, 0);

    int[] visited = {0};
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> streamed.nodeSource().forEachRaw((path, bytes, offset, length) -> {
          if (++visited[0] == 10) {
            throw new IllegalStateException("enough");
          }
        }));
    assertEquals("enough", e.getMessage());
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (readerAlive()) {
      assertTrue(System.nanoTime() < deadline, "the snapshot reader thread is still running");
      Thread.sleep(10);
    }
  }

  private static boolean readerAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("snapshot-reader") && t.isAlive());
  }
}
