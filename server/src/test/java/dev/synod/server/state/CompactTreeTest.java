package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.Stat;
import dev.synod.server.auth.Identities;
import dev.synod.server.storage.Snapshot;
import dev.synod.server.storage.SnapshotNodes;
import dev.synod.txn.v1.NodeRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The compact tree: shared ACLs, sorted children past the array limit, snapshots in path order. */
class CompactTreeTest {
  private final DataTree tree = new DataTree();
  private final TreeOps ops = new TreeOps(tree);
  private long zxid;

  /** An ACL naming {@code who} (and letting anyone in, so these tests can go on). */
  private static List<Acl> digest(String who) {
    // New instances each time, as every Txn parsed from the log brings its own.
    return List.of(Acl.newBuilder().setScheme("digest").setId(who + ":hash").setPerms(1).build(),
        Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build());
  }

  private void create(String path, List<Acl> acl) throws SynodException {
    TreeOps.Context ctx = new TreeOps.Context(++zxid, 1_000, 0, Identities.ANONYMOUS);
    ops.create(ctx, CreateRequest.newBuilder().setPath(path)
        .setData(ByteString.copyFromUtf8("v " + path)).addAllAcl(acl).build());
    tree.commit();
  }

  private void delete(String path) throws SynodException {
    TreeOps.Context ctx = new TreeOps.Context(++zxid, 1_000, 0, Identities.ANONYMOUS);
    ops.delete(ctx, DeleteRequest.newBuilder().setPath(path).build());
    tree.commit();
  }

  @Test
  void equalAclsAreHeldOnceAndForgottenWhenNoNodeUsesThem() throws SynodException {
    create("/a", digest("ann"));
    create("/b", digest("ann"));
    create("/c", digest("bob"));
    assertSame(tree.get("/a").acl, tree.get("/b").acl);
    assertEquals(3, tree.aclCount(), "world (the root's), ann's, bob's");
    delete("/c");
    assertEquals(2, tree.aclCount(), "bob's ACL went with its last node");
    delete("/a");
    assertEquals(2, tree.aclCount(), "/b still uses ann's");
  }

  @Test
  void aclsAreSharedAfterASnapshotLoadToo() throws Exception {
    create("/a", digest("ann"));
    create("/b", digest("ann"));
    create("/b/c", digest("ann"));
    // Through bytes, as from a file: every record parses into its own ACL objects.
    TreeMap<String, NodeRecord> parsed = new TreeMap<>();
    tree.capture().forEach((path, record) -> parsed.put(path, reparse(record)));
    DataTree loaded = new DataTree();
    loaded.load(SnapshotNodes.of(parsed));
    assertSame(loaded.get("/a").acl, loaded.get("/b/c").acl);
    assertEquals(2, loaded.aclCount());
  }

  private static NodeRecord reparse(NodeRecord record) {
    try {
      return NodeRecord.parseFrom(record.toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aLoadedRecordBecomesTheNodeItDescribesWithEveryField() {
    Acl world = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build();
    Acl ann = Acl.newBuilder().setScheme("digest").setId("ann:h").setPerms(3).build();
    TreeMap<String, NodeRecord> records = new TreeMap<>();
    records.put("/", NodeRecord.newBuilder().addAcl(world).setStat(Stat.newBuilder()
        .setNumChildren(2).setCversion(2).setPzxid(4)).build());
    records.put("/p", NodeRecord.newBuilder().setData(ByteString.copyFromUtf8("pp"))
        .addAcl(ann).addAcl(world).setQuota(Quota.newBuilder().setCountHard(9).setBytesSoft(70))
        .setStat(Stat.newBuilder().setCzxid(3).setMzxid(Long.MAX_VALUE).setPzxid(-2L)
            .setCtimeMs(-5).setMtimeMs(1_700_000_000_000L).setVersion(Integer.MAX_VALUE)
            .setCversion(-1).setAversion(7).setDataLength(2).setKind(NodeKind.CONTAINER))
        .build());
    records.put("/t", NodeRecord.newBuilder().addAcl(world).setStat(Stat.newBuilder()
        .setCzxid(4).setKind(NodeKind.TTL).setTtlMs(1234).setEphemeralOwner(0)).build());
    DataTree loaded = new DataTree();
    loaded.load(SnapshotNodes.of(records));
    TreeMap<String, NodeRecord> back = new TreeMap<>();
    loaded.capture().forEach(back::put);
    assertEquals(records, back);
    assertEquals(2, loaded.aclCount());
  }

  @Test
  void aDirectoryPastTheArrayLimitStaysSortedAndFindable() throws SynodException {
    create("/big", digest("ann"));
    List<String> names = new ArrayList<>();
    for (int i = 0; i < Children.ARRAY_MAX + 300; i++) {
      names.add("n" + i);
    }
    Collections.shuffle(names, new Random(13));
    for (String name : names) {
      create("/big/" + name, digest("ann"));
    }
    List<String> sorted = new ArrayList<>(names);
    Collections.sort(sorted);
    assertEquals(sorted, childNames("/big", null));
    assertEquals(sorted.subList(11, sorted.size()), childNames("/big", sorted.get(10)));
    for (String name : names.subList(0, names.size() / 2)) {
      delete("/big/" + name);
    }
    List<String> left = new ArrayList<>(names.subList(names.size() / 2, names.size()));
    Collections.sort(left);
    assertEquals(left, childNames("/big", null));
    assertNull(tree.get("/big/" + names.get(0)));
    assertEquals("v /big/" + left.get(3), tree.get("/big/" + left.get(3)).data().toStringUtf8());
    assertEquals(left.size(), tree.get("/big").numChildren);
  }

  private List<String> childNames(String path, String after) {
    List<String> out = new ArrayList<>();
    for (Iterator<Node> it = tree.children(tree.get(path), after); it.hasNext(); ) {
      out.add(it.next().name());
    }
    return out;
  }

  @Test
  void aSnapshotListsNodesInPathOrderNotInWalkOrder() {
    Harness h = new Harness();
    // '-', '.', '!' and ' ' sort below '/', so "/a-b" comes between "/a" and "/a/x".
    for (String path : List.of("/a", "/a-b", "/a/x", "/a-b/y", "/a.c", "/a/x/z", "/a!", "/ab",
        "/a b", "/a-b/y-", "/a-b/y/q", "/a-", "/a-/k")) {
      assertOk(h.create(path));
    }
    List<String> listed = new ArrayList<>();
    Snapshot s = h.sm.snapshot();
    s.forEachNode((path, record) -> listed.add(path));
    List<String> sorted = new ArrayList<>(listed);
    Collections.sort(sorted);
    assertEquals(sorted, listed);
    assertEquals(14, listed.size());
    Harness restored = new Harness();
    restored.sm.restore(s);
    assertEquals(s, restored.sm.snapshot());
  }

  @Test
  void aSnapshotKeepsTheStateItWasTakenAt() {
    Harness h = new Harness();
    h.create("/a", "one");
    h.create("/a/b", "child");
    Snapshot s = h.sm.snapshot();
    h.setData("/a", "two");
    h.delete("/a/b");
    h.create("/a/c", "new");
    assertEquals("one", s.nodes().get("/a").getData().toStringUtf8());
    assertEquals(1, s.nodes().get("/a").getStat().getNumChildren());
    assertEquals(List.of("/", "/a", "/a/b"), List.copyOf(s.nodes().keySet()));
  }
}
