package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchKind;
import dev.synod.txn.v1.NoopTxn;
import dev.synod.txn.v1.Txn;
import org.junit.jupiter.api.Test;

/** The facade's own rules: zxid order, noop, stats and the limits' checks. */
class StateMachineTest {
  private final Harness h = new Harness();

  @Test
  void aTxnOutOfZxidOrderIsAProgrammerError() {
    h.noop();
    Txn skip = Txn.newBuilder().setZxid(3).setNoop(NoopTxn.getDefaultInstance()).build();
    assertThrows(IllegalStateException.class, () -> h.sm.apply(skip, r -> {}));
    Txn again = Txn.newBuilder().setZxid(1).setNoop(NoopTxn.getDefaultInstance()).build();
    assertThrows(IllegalStateException.class, () -> h.sm.apply(again, r -> {}));
    assertEquals(1, h.sm.lastZxid());
  }

  @Test
  void aTxnWithoutAnOpIsRefusedWithoutAdvancing() {
    Txn empty = Txn.newBuilder().setZxid(1).build();
    assertThrows(IllegalArgumentException.class, () -> h.sm.apply(empty, r -> {}));
    assertEquals(0, h.sm.lastZxid());
    assertOk(h.noop());
  }

  @Test
  void noopOnlyAdvancesTheZxid() {
    h.create("/a");
    var before = h.sm.snapshot();
    Response r = h.apply(t -> t.setRequestNo(5).setNoop(NoopTxn.getDefaultInstance()));
    assertEquals(Response.newBuilder().setRequestNo(5).setZxid(before.zxid() + 1).build(), r);
    assertEquals(before.nodes(), h.sm.snapshot().nodes());
  }

  @Test
  void statsCountEverything() {
    assertEquals(new StateMachine.Stats(0, 1, 0, 0, 0), h.sm.stats());
    h.openSession(1);
    h.create("/a");
    h.create("/a/b");
    h.addWatch(1, "/a", WatchKind.WATCH_PERSISTENT);
    h.getData(1, "/a", true);
    assertEquals(new StateMachine.Stats(3, 3, 1, 2, 0), h.sm.stats());
  }

  @Test
  void limitsMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new StateLimits(0, 1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new StateLimits(1, 1, 1, -1));
    StateLimits d = StateLimits.defaults();
    assertEquals(100_000, d.watchesPerWatcherMax());
    assertEquals(10_000, d.childrenPageMax());
    assertEquals(100_000, d.historyEventsMax());
    assertEquals(64L << 20, d.historyBytesMax());
  }
}
