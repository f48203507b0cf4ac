package dev.synod.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup format: what is written reads back the same, and damage of any kind is refused. */
class BackupFormatTest {
  @TempDir Path tmp;

  private static Snapshot snapshot(int nodes, int valueBytes) {
    SortedMap<String, NodeRecord> map = new TreeMap<>();
    map.put("/", NodeRecord.newBuilder().setStat(Stat.newBuilder().setNumChildren(1)).build());
    map.put("/a", NodeRecord.newBuilder().setStat(Stat.newBuilder().setNumChildren(nodes)).build());
    for (int i = 0; i < nodes; i++) {
      map.put("/a/n" + i, NodeRecord.newBuilder().setData(ByteString.copyFrom(new byte[valueBytes]))
          .setStat(Stat.newBuilder().setCzxid(i + 1).setMzxid(i + 1).setDataLength(valueBytes)).build());
    }
    List<SessionRecord> sessions = List.of(SessionRecord.newBuilder().setSessionId(7).setTimeoutMs(5_000).build());
    return new Snapshot(nodes + 1, 0, 1_700_000_000_000L, map, sessions);
  }

  private static List<BackupChunk> chunks(Snapshot s) {
    List<BackupChunk> out = new ArrayList<>();
    BackupFormat.write(s, 0x1234L, 2, 99L, out::add);
    return out;
  }

  @Test
  void aBackupReadsBackAsTheSnapshotItWasMadeFrom() {
    Snapshot s = snapshot(2_000, 100);
    BackupFormat.Contents c = BackupFormat.read(chunks(s).iterator());
    assertEquals(s.nodes(), c.snapshot().nodes());
    assertEquals(s.sessions(), c.snapshot().sessions());
    assertEquals(s.zxid(), c.snapshot().zxid());
    assertEquals(s.timeMs(), c.snapshot().timeMs());
    assertEquals(0, c.snapshot().slot(), "a restore's log starts after it");
    assertEquals(0x1234L, c.header().getClusterId());
    assertEquals(2, c.header().getMemberId());
    assertEquals(2_000 * 100, c.trailer().getDataBytes());
  }

  @Test
  void chunksStayFarBelowTheMessageLimit_evenWithLargeValues() {
    for (BackupChunk chunk : chunks(snapshot(40, 1 << 20))) {
      assertTrue(chunk.getSerializedSize() < 3 << 20, "chunk of " + chunk.getSerializedSize() + " bytes");
    }
  }

  @Test
  void aFileRoundTrips_andAFlippedByteIsRefused() throws Exception {
    Path file = tmp.resolve("b.backup");
    Snapshot s = snapshot(500, 10);
    BackupFormat.writeFile(file, chunks(s).iterator());
    assertEquals(s.nodes(), BackupFormat.readFile(file).snapshot().nodes());
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5a; // inside a node's value: still parses, the checksum differs
    Files.write(file, bytes);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupFormat.readFile(file));
    assertTrue(e.getMessage().contains("checksum") || e.getMessage().contains("damaged"), e.getMessage());
  }

  @Test
  void aBackupCutShortOrOutOfOrderIsRefused() {
    List<BackupChunk> all = chunks(snapshot(3_000, 500));
    assertTrue(all.size() > 3, "several node chunks: " + all.size());
    IllegalArgumentException cut = assertThrows(IllegalArgumentException.class,
        () -> BackupFormat.read(all.subList(0, all.size() - 1).iterator()));
    assertTrue(cut.getMessage().contains("cut short"), cut.getMessage());
    List<BackupChunk> swapped = new ArrayList<>(all);
    swapped.set(2, all.get(3));
    swapped.set(3, all.get(2));
    assertThrows(IllegalArgumentException.class, () -> BackupFormat.read(swapped.iterator()));
    IllegalArgumentException headless = assertThrows(IllegalArgumentException.class,
        () -> BackupFormat.read(all.subList(1, all.size()).iterator()));
    assertTrue(headless.getMessage().contains("header"), headless.getMessage());
  }
}
