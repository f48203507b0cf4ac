package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Stat;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.storage.Snapshot;
import dev.synod.server.storage.SnapshotNodes;
import dev.synod.server.storage.SnapshotStore;
import dev.synod.txn.v1.NodeRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names of every kind a path allows (ASCII, Latin-1, other BMP chars) as siblings, in a small
 * directory and in one past {@link Children#ARRAY_MAX}: children are listed in String order,
 * each is found and removed by its path, and a snapshot written to a file and restored keeps
 * every name. Nodes are held with Latin-1 names as bytes; none of that may show.
 */
class NodeNameTreeTest {
  /** Valid path segments; chars below '/' after a prefix exercise the snapshot's path order. */
  private static final List<String> NAMES = List.of("a", "ab", "a-b", "a b", "a!", "a.c", "z",
      "~", "é", "é-", "é.x", "eé", "ée", "ÿ", "aÿ", "Ā", "aĀ", "名", "名字", "名-", "a名", "ﬁ",
      "\u00a0", "ä名");

  @TempDir Path dir;

  private static List<String> sorted(List<String> names) {
    List<String> out = new ArrayList<>(names);
    Collections.sort(out); // String.compareTo: what clients see
    return out;
  }

  /** Every name of {@link #NAMES} under {@code /m}, some with a child of their own. */
  private static List<String> createMixed(Harness h) {
    assertOk(h.create("/m"));
    for (String name : NAMES) {
      assertOk(h.create("/m/" + name, "v " + name));
    }
    for (String name : List.of("a", "é", "名", "ÿ")) {
      assertOk(h.create("/m/" + name + "/" + name + "1"));
      assertOk(h.create("/m/" + name + "/é"));
    }
    return NAMES;
  }

  /** Names past the array limit: each kind of name, many times over. */
  private static List<String> createBig(Harness h) {
    assertOk(h.create("/big"));
    List<String> names = new ArrayList<>();
    for (int i = 0; names.size() <= Children.ARRAY_MAX + 100; i++) {
      for (String prefix : List.of("n", "é", "ÿ-", "名", "Ā")) {
        names.add(prefix + i);
      }
    }
    Collections.shuffle(names, new java.util.Random(7));
    for (String name : names) {
      assertOk(h.create("/big/" + name, name));
    }
    return names;
  }

  @Test
  void siblingsOfEveryKindAreListedInStringOrderAndFoundByPath() {
    Harness h = new Harness();
    List<String> names = createMixed(h);
    assertEquals(sorted(names), h.childNames("/m"));
    for (String name : names) {
      assertEquals("v " + name, h.data("/m/" + name));
    }
    assertEquals(List.of("a1", "é"), h.childNames("/m/a"));
    assertEquals(List.of("é", "名1"), h.childNames("/m/名"));
    assertFalse(h.nodeExists("/m/e"));
    assertFalse(h.nodeExists("/m/名字字"));
    assertFalse(h.nodeExists("/m/é/x"));
  }

  @Test
  void aPageOfChildrenResumesAfterACursorOfAnyKind() {
    Harness h = new Harness();
    List<String> all = sorted(createMixed(h));
    for (String cursor : List.of("é", "名", "a", "ÿ0", "Ă")) {
      List<String> expected = new ArrayList<>();
      for (String name : all) {
        if (name.compareTo(cursor) > 0 && expected.size() < 3) {
          expected.add(name);
        }
      }
      assertEquals(expected,
          h.children("/m", 3, cursor).getGetChildren().getChildrenList(), "after " + cursor);
    }
  }

  @Test
  void aDirectoryPastTheArrayLimitKeepsMixedNamesInOrderThroughRemovals() {
    Harness h = new Harness();
    List<String> names = createBig(h);
    assertEquals(sorted(names), allChildren(h, "/big"));
    for (String name : names.subList(0, names.size() / 2)) {
      assertOk(h.delete("/big/" + name));
      assertFalse(h.nodeExists("/big/" + name), name);
    }
    List<String> left = names.subList(names.size() / 2, names.size());
    assertEquals(sorted(left), allChildren(h, "/big"));
    for (String name : left) {
      assertEquals(name, h.data("/big/" + name));
    }
  }

  /** GetChildren pages (a page holds at most the server's page limit). */
  private static List<String> allChildren(Harness h, String path) {
    List<String> out = new ArrayList<>();
    String cursor = "";
    while (true) {
      var page = h.children(path, 0, cursor).getGetChildren();
      out.addAll(page.getChildrenList());
      if (page.getNextCursor().isEmpty()) {
        return out;
      }
      cursor = page.getNextCursor();
    }
  }

  @Test
  void aSnapshotWrittenToAFileAndRestoredKeepsEveryName() throws IOException {
    Harness h = new Harness();
    List<String> mixed = createMixed(h);
    List<String> big = createBig(h);
    Snapshot taken = h.sm.snapshot();
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    assertTrue(store.write(taken));
    Snapshot loaded = new SnapshotStore(dir, FaultInjector.NONE).loadLatest().orElseThrow();

    Harness restored = new Harness();
    restored.sm.restore(loaded);

    assertEquals(sorted(mixed), restored.childNames("/m"));
    assertEquals(sorted(big), allChildren(restored, "/big"));
    for (String name : mixed) {
      assertEquals("v " + name, restored.data("/m/" + name));
    }
    assertEquals(List.of("é", "名1"), restored.childNames("/m/名"));
    assertEquals(taken.nodes(), restored.sm.snapshot().nodes());
    // And the restored tree takes changes by those names.
    assertOk(restored.delete("/m/名字"));
    assertOk(restored.create("/m/名字字"));
    assertOk(restored.delete("/big/" + big.get(0)));
    assertFalse(restored.nodeExists("/m/名字"));
    assertTrue(restored.nodeExists("/m/名字字"));
  }

  /**
   * A path may not hold a surrogate (so no emoji): ZooKeeper's rule, kept. A tree loaded from a
   * snapshot that has one anyway (the load checks structure, not syntax) still keeps its name.
   */
  @Test
  void supplementaryCharsAreRefusedInPathsButKeptIfASnapshotHasThem() {
    Harness h = new Harness();
    assertOk(h.create("/m"));
    assertError(ErrorReason.INVALID_PATH, h.create("/m/😀"));

    Acl world = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build();
    List<String> names = List.of("😀", "a😀", "\ue000", "名", "é", "a", "😀b", "\uffef");
    SortedMap<String, NodeRecord> records = new TreeMap<>();
    records.put("/", NodeRecord.newBuilder().addAcl(world)
        .setStat(Stat.newBuilder().setNumChildren(1)).build());
    records.put("/s", NodeRecord.newBuilder().addAcl(world)
        .setStat(Stat.newBuilder().setNumChildren(names.size())).build());
    for (String name : names) {
      records.put("/s/" + name,
          NodeRecord.newBuilder().addAcl(world).setStat(Stat.newBuilder()).build());
    }
    DataTree tree = new DataTree();
    tree.load(SnapshotNodes.of(records));
    List<String> listed = new ArrayList<>();
    tree.children(tree.get("/s"), null).forEachRemaining(n -> listed.add(n.name()));
    assertEquals(sorted(names), listed);
    for (String name : names) {
      assertEquals(name, tree.get("/s/" + name).name());
    }
    SortedMap<String, NodeRecord> back = new TreeMap<>();
    tree.capture().forEach(back::put);
    assertEquals(records, back);
  }
}
