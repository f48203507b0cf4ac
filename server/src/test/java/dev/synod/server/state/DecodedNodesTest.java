package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.Stat;
import dev.synod.server.storage.SnapshotNodes;
import dev.synod.txn.v1.NodeRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A large snapshot is decoded on a thread of its own while the caller links the nodes: the tree
 * it makes is the one a small snapshot's inline decoding makes, and a failure on either side
 * stops both.
 */
class DecodedNodesTest {
  private static final Acl WORLD =
      Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build();

  /** A tree of {@code parents} x {@code children} nodes (with the parents and the root). */
  private static SortedMap<String, NodeRecord> tree(int parents, int children) {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    nodes.put("/", record("", parents));
    for (int p = 0; p < parents; p++) {
      String parent = "/p" + p;
      nodes.put(parent, record("", children));
      for (int c = 0; c < children; c++) {
        nodes.put(parent + "/c" + c, record("value " + p + "/" + c, 0));
      }
    }
    return nodes;
  }

  private static NodeRecord record(String data, int numChildren) {
    // A fresh ACL object per record, as parsed from a file.
    return NodeRecord.newBuilder().setData(ByteString.copyFromUtf8(data))
        .setStat(Stat.newBuilder().setNumChildren(numChildren).setCzxid(numChildren + 1)
            .setDataLength(data.length()))
        .addAcl(WORLD.toBuilder().build()).build();
  }

  @Test
  void aLargeSnapshotDecodedOnItsOwnThreadMakesTheSameTree() {
    SortedMap<String, NodeRecord> nodes = tree(30, 500);
    assertTrue(nodes.size() >= DecodedNodes.THREAD_NODES_MIN, "large enough for the thread");

    DataTree loaded = new DataTree();
    loaded.load(SnapshotNodes.of(nodes));

    assertEquals(nodes.size(), loaded.size());
    SortedMap<String, NodeRecord> back = new TreeMap<>();
    loaded.capture().forEach(back::put);
    assertEquals(nodes, back);
    assertSame(loaded.get("/p0/c0").acl, loaded.get("/p29/c499").acl, "one ACL list for all");
    assertEquals(1, loaded.aclCount());
  }

  @Test
  void aRecordThatDoesNotDecodeFailsTheLoadAndStopsTheDecoder() throws Exception {
    SortedMap<String, NodeRecord> nodes = tree(30, 500);
    List<String> paths = new ArrayList<>(nodes.keySet());
    String bad = paths.get(paths.size() / 2);
    SnapshotNodes source = new SnapshotNodes() {
      @Override
      public long count() {
        return nodes.size();
      }

      @Override
      public java.util.Iterator<Entry> iterator() {
        throw new UnsupportedOperationException();
      }

      @Override
      public void forEachRaw(RawVisitor visitor) {
        for (var e : nodes.entrySet()) {
          byte[] bytes = e.getKey().equals(bad)
              ? new byte[] {(byte) 0x0a, (byte) 0x7f} // data field claiming 127 bytes, of 0
              : e.getValue().toByteArray();
          visitor.visit(e.getKey(), bytes, 0, bytes.length);
        }
      }
    };

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new DataTree().load(source));
    assertTrue(e.getMessage().contains(bad), e.getMessage());
    awaitNoDecoderThread();
  }

  @Test
  void aNodeTheTreeRefusesStopsTheDecoder() throws Exception {
    SortedMap<String, NodeRecord> nodes = tree(30, 500);
    nodes.put("/orphan/child", record("x", 0)); // sorts among the others; no parent

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DataTree().load(SnapshotNodes.of(nodes)));
    assertTrue(e.getMessage().contains("/orphan/child has no parent"), e.getMessage());
    awaitNoDecoderThread();
  }

  /**
   * {@code nodes} as a snapshot file's source hands them over: each path still UTF-8, in one
   * array with its record and other bytes around them.
   */
  private static SnapshotNodes encoded(SortedMap<String, NodeRecord> nodes) {
    return new SnapshotNodes() {
      @Override
      public long count() {
        return nodes.size();
      }

      @Override
      public java.util.Iterator<Entry> iterator() {
        throw new UnsupportedOperationException("the restore reads the encoded form");
      }

      @Override
      public void forEachEncoded(EncodedVisitor visitor) {
        for (var e : nodes.entrySet()) {
          byte[] path = e.getKey().getBytes(StandardCharsets.UTF_8);
          byte[] record = e.getValue().toByteArray();
          byte[] both = new byte[3 + path.length + record.length + 2];
          System.arraycopy(path, 0, both, 3, path.length);
          System.arraycopy(record, 0, both, 3 + path.length, record.length);
          visitor.visit(both, 3, path.length, both, 3 + path.length, record.length);
        }
      }
    };
  }

  @Test
  void encodedPathsOfManyParentsAndNonAsciiNamesMakeTheSameTree() {
    for (int parents : new int[] {3, 40}) { // inline, then on the decoder's thread
      SortedMap<String, NodeRecord> nodes = new TreeMap<>();
      nodes.put("/", record("", 2 + parents));
      nodes.put("/\u00e9", record("", 1));
      nodes.put("/\u00e9/\uD83D\uDE00 \u00fc", record("emoji", 0)); // 2- and 4-byte UTF-8
      nodes.put("/x", record("", 1));
      nodes.put("/x/y", record("", 1));
      nodes.put("/x/y/z", record("deep", 0));
      for (int p = 0; p < parents; p++) {
        // Parents of one length, neighbours differing in their last byte only: "/a00", "/a01".
        String parent = "/a" + (char) ('0' + p % 10) + (char) ('0' + p / 10);
        nodes.put(parent, record("", 400));
        for (int c = 0; c < 400; c++) {
          nodes.put(parent + "/n\u00e9" + c, record("v" + c, 0));
        }
      }

      DataTree loaded = new DataTree();
      loaded.load(encoded(nodes));

      SortedMap<String, NodeRecord> back = new TreeMap<>();
      loaded.capture().forEach(back::put);
      assertEquals(nodes, back, parents + " parents");
      assertEquals("deep", loaded.get("/x/y/z").data().toStringUtf8());
    }
  }

  @Test
  void anEncodedSnapshotThatIsNotATreeIsRefused() {
    SortedMap<String, NodeRecord> noRoot = new TreeMap<>();
    noRoot.put("/a", record("", 0));
    SortedMap<String, NodeRecord> relative = new TreeMap<>();
    relative.put("/", record("", 0));
    relative.put("a", record("", 0));
    SortedMap<String, NodeRecord> orphan = new TreeMap<>();
    orphan.put("/", record("", 1));
    orphan.put("/a", record("", 0));
    orphan.put("/b/c", record("", 0));

    assertRefused(noRoot, "snapshot has no root node");
    assertRefused(relative, "snapshot node a has no parent");
    assertRefused(orphan, "snapshot node /b/c has no parent");
  }

  /**
   * A second root in the middle of a snapshot (a damaged file) is refused where it stands, so no
   * node after it is linked (the path splitter also forgets its parent at a root since 801010b; the
   * stale parent it kept before could reach only a decoded node this refusal discards).
   */
  @Test
  void aRepeatedRootIsRefusedWhereItStands() {
    java.util.List<String> paths = java.util.List.of("/", "/a", "/", "/b");
    SnapshotNodes nodes = new SnapshotNodes() {
      @Override
      public long count() {
        return paths.size();
      }

      @Override
      public java.util.Iterator<Entry> iterator() {
        throw new UnsupportedOperationException("the restore reads the encoded form");
      }

      @Override
      public void forEachEncoded(EncodedVisitor visitor) {
        for (String path : paths) {
          byte[] p = path.getBytes(StandardCharsets.UTF_8);
          byte[] r = record("", path.equals("/") ? 1 : 0).toByteArray();
          visitor.visit(p, 0, p.length, r, 0, r.length);
        }
      }
    };
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DataTree().load(nodes));
    assertEquals("snapshot lists / twice", e.getMessage());
  }

  private static void assertRefused(SortedMap<String, NodeRecord> nodes, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DataTree().load(encoded(nodes)));
    assertEquals(message, e.getMessage());
  }

  private static void awaitNoDecoderThread() throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("snapshot-decoder") && t.isAlive())) {
      assertTrue(System.nanoTime() < deadline, "the snapshot decoder thread is still running");
      Thread.sleep(10);
    }
  }
}
