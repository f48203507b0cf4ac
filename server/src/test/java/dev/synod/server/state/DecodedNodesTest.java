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

  private static void awaitNoDecoderThread() throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("snapshot-decoder") && t.isAlive())) {
      assertTrue(System.nanoTime() < deadline, "the snapshot decoder thread is still running");
      Thread.sleep(10);
    }
  }
}
