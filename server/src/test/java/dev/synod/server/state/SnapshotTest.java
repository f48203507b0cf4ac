package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.NodeRecord;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SnapshotTest {
  private final Harness h = new Harness();

  private void populate() {
    h.openSession(1);
    h.openSession(2);
    h.create("/app", "config");
    h.create(createReq("/app/locks").setKind(NodeKind.CONTAINER));
    h.create(1, 1, createReq("/app/locks/l-").setKind(NodeKind.EPHEMERAL).setSequential(true));
    h.create(2, 1, createReq("/app/locks/l-").setKind(NodeKind.EPHEMERAL).setSequential(true));
    h.create(createReq("/ttl").setKind(NodeKind.TTL).setTtlMs(500));
    h.setData("/app", "config2");
    h.create(1, 2, createReq("/app/seq-").setSequential(true));
    h.addWatch(-1, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
  }

  @Test
  void snapshotRestoreSnapshotGivesEqualContent() {
    populate();
    Snapshot first = h.sm.snapshot();
    assertEquals(h.sm.lastZxid(), first.zxid());
    assertTrue(first.nodes().containsKey("/"));
    assertEquals(h.sm.stats().nodeCount(), first.nodes().size());
    Harness other = new Harness();
    other.sm.restore(first);
    Snapshot second = other.sm.snapshot();
    assertEquals(first, second);
    assertEquals(first.zxid(), other.sm.lastZxid());
    assertEquals(h.sm.sessions(), other.sm.sessions());
    assertEquals(0, other.sm.stats().watchCount(), "watches are local, not restored");
  }

  @Test
  void restoreRebuildsChildrenEphemeralsAndCounters() {
    populate();
    Harness other = new Harness();
    other.sm.restore(h.sm.snapshot());
    assertEquals(List.of("l-0000000000", "l-0000000001"), other.childNames("/app/locks"));
    assertEquals(List.of("locks", "seq-0000000001"), other.childNames("/app"));
    other.closeSession(1, true);
    assertEquals(List.of("l-0000000001"), other.childNames("/app/locks"));
    other.closeSession(2, true);
    assertFalse(other.nodeExists("/app/locks"), "container reaped after restore too");
    assertEquals("/app/seq-0000000003", // locks, seq-1, reaped locks
        other.create(createReq("/app/seq-").setSequential(true)).getCreate().getPath());
    assertEquals(1, other.sm.expiredTtlNodes(Long.MAX_VALUE / 2, 10).size());
  }

  @Test
  void aSnapshotIsAnImmutableCopy() {
    populate();
    Snapshot s = h.sm.snapshot();
    h.create("/after");
    assertFalse(s.nodes().containsKey("/after"));
    assertThrows(UnsupportedOperationException.class, () -> s.nodes().remove("/app"));
    assertThrows(UnsupportedOperationException.class, () -> s.sessions().clear());
  }

  @Test
  void restoreRefusesAnInconsistentSnapshot() {
    populate();
    Snapshot good = h.sm.snapshot();

    TreeMap<String, NodeRecord> orphan = new TreeMap<>(good.nodes());
    orphan.put("/no/parent", NodeRecord.getDefaultInstance());
    assertThrows(IllegalArgumentException.class,
        () -> new Harness().sm.restore(new Snapshot(good.zxid(), good.slot(), orphan, good.sessions())));

    TreeMap<String, NodeRecord> noRoot = new TreeMap<>(good.nodes());
    noRoot.remove("/");
    assertThrows(IllegalArgumentException.class,
        () -> new Harness().sm.restore(new Snapshot(good.zxid(), good.slot(), noRoot, good.sessions())));

    TreeMap<String, NodeRecord> badCount = new TreeMap<>(good.nodes());
    NodeRecord app = badCount.get("/app");
    badCount.put("/app", app.toBuilder().setStat(app.getStat().toBuilder().setNumChildren(9)).build());
    assertThrows(IllegalArgumentException.class,
        () -> new Harness().sm.restore(new Snapshot(good.zxid(), good.slot(), badCount, good.sessions())));

    TreeMap<String, NodeRecord> leafCount = new TreeMap<>(good.nodes());
    NodeRecord leaf = leafCount.get("/ttl");
    leafCount.put("/ttl", leaf.toBuilder().setStat(leaf.getStat().toBuilder().setNumChildren(1)).build());
    assertThrows(IllegalArgumentException.class,
        () -> new Harness().sm.restore(new Snapshot(good.zxid(), good.slot(), leafCount, good.sessions())),
        "a leaf that says it has a child");

    Harness victim = new Harness();
    victim.create("/kept");
    assertThrows(IllegalArgumentException.class,
        () -> victim.sm.restore(new Snapshot(good.zxid(), good.slot(), good.nodes(), List.of())),
        "ephemerals of a session the snapshot does not have");
    assertEquals(0, victim.sm.lastZxid(), "a refused restore leaves a fresh state");
    assertEquals(1, victim.sm.stats().nodeCount());
  }

  @Test
  void aFreshStateHasOnlyThePersistentRoot() {
    Snapshot s = h.sm.snapshot();
    assertEquals(0, s.zxid());
    assertEquals(List.of("/"), List.copyOf(s.nodes().keySet()));
    Stat root = s.nodes().get("/").getStat();
    assertEquals(NodeKind.PERSISTENT, root.getKind());
    assertEquals(0, root.getCzxid());
    assertEquals(List.of(), s.sessions());
    assertOk(h.create("/first"));
  }
}
