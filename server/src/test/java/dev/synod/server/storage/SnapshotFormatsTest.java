package dev.synod.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot files of every format this version reads, and the chunk edges of the current one. */
class SnapshotFormatsTest {
  @TempDir Path dir;

  private static final Acl WORLD =
      Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build();
  private static final Acl DIGEST =
      Acl.newBuilder().setScheme("digest").setId("ann:x1Jq3b9Wn2Pq").setPerms(1).build();

  private static NodeRecord node(String data, Stat.Builder stat, Acl acl) {
    ByteString bytes = ByteString.copyFromUtf8(data);
    return NodeRecord.newBuilder().setData(bytes).setStat(stat.setDataLength(bytes.size()))
        .addAcl(acl).build();
  }

  /**
   * What the version 2 file in test resources holds: written by the version 2 writer (the one
   * before nodes were chunked) from exactly this snapshot.
   */
  static Snapshot version2Contents() {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    nodes.put("/", node("", Stat.newBuilder().setNumChildren(1).setCversion(1).setPzxid(2), WORLD));
    nodes.put("/app", NodeRecord.newBuilder(node("cfg", Stat.newBuilder().setCzxid(2).setMzxid(2)
        .setPzxid(7).setCtimeMs(1_700_000_000_000L).setMtimeMs(1_700_000_000_000L)
        .setNumChildren(4).setCversion(4), WORLD))
        .setQuota(Quota.newBuilder().setCountHard(100)).build());
    nodes.put("/app/a", node("alpha", Stat.newBuilder().setCzxid(3).setMzxid(8).setPzxid(5)
        .setVersion(1).setNumChildren(1).setCversion(1).setCtimeMs(1_700_000_000_001L)
        .setMtimeMs(1_700_000_000_008L), WORLD));
    nodes.put("/app/a-b", node("dash", Stat.newBuilder().setCzxid(4).setMzxid(4).setPzxid(4), DIGEST));
    nodes.put("/app/a/x", node("under a", Stat.newBuilder().setCzxid(5).setMzxid(5).setPzxid(5), WORLD));
    nodes.put("/app/eph", node("mine", Stat.newBuilder().setCzxid(6).setMzxid(6).setPzxid(6)
        .setEphemeralOwner(4242).setKind(NodeKind.EPHEMERAL), WORLD));
    nodes.put("/app/ttl", node("", Stat.newBuilder().setCzxid(7).setMzxid(7).setPzxid(7)
        .setKind(NodeKind.TTL).setTtlMs(60_000), WORLD));
    List<SessionRecord> sessions = List.of(SessionRecord.newBuilder().setSessionId(4242)
        .setSecret(77).setTimeoutMs(10_000).setLastRequestNo(3).build());
    return new Snapshot(9, 11, 1_700_000_000_009L, nodes, sessions);
  }

  /** Puts the version 2 file of test resources into {@code into}, under its own name. */
  static void copyVersion2File(Path into) throws IOException {
    String name = "snapshot-00000000000000000011";
    try (InputStream in = SnapshotFormatsTest.class.getResourceAsStream(
        "/snapshots/" + name + ".v2.db.gz")) {
      Files.createDirectories(into);
      Files.copy(new GZIPInputStream(in), into.resolve(name + ".db"));
    }
  }

  @Test
  void aVersion2FileIsReadAndItsStateWrittenAgainInTheCurrentFormat() throws IOException {
    copyVersion2File(dir);
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    Snapshot loaded = store.loadLatest().orElseThrow();
    SnapshotStoreTest.assertSameSnapshot(version2Contents(), loaded);

    assertEquals(true, store.write(loaded.withSlot(12)));
    SnapshotStoreTest.assertSameSnapshot(loaded.withSlot(12),
        new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
  }

  @Test
  void nodesLargerThanAChunkAndChunksOfManyNodesRoundTrip() throws IOException {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    nodes.put("/", node("", Stat.newBuilder().setNumChildren(3), WORLD));
    byte[] big = new byte[3 * SnapshotFile.CHUNK_BYTES_TARGET + 17];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    nodes.put("/big", NodeRecord.newBuilder().setData(ByteString.copyFrom(big))
        .setStat(Stat.newBuilder().setDataLength(big.length)).addAcl(WORLD).build());
    nodes.put("/small", node("s", Stat.newBuilder().setNumChildren(5000), WORLD));
    for (int i = 0; i < 5000; i++) {
      nodes.put("/small/n" + i, node("value " + i, Stat.newBuilder().setCzxid(i), WORLD));
    }
    nodes.put("/ünïcode-名前", node("x", Stat.newBuilder(), DIGEST));
    Snapshot written = new Snapshot(5011, 3, 42, nodes, List.of());
    new SnapshotStore(dir, FaultInjector.NONE).write(written);
    SnapshotStoreTest.assertSameSnapshot(written,
        new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow());
  }
}
