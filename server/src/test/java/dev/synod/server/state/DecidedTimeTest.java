package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Response;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decided time never decreases: a Txn's effective time is max(previous effective time, its
 * stamped time), on every replica alike, and a snapshot carries it.
 */
class DecidedTimeTest {
  private final Harness h = new Harness();

  @Test
  void aStampBehindTheDecidedTimeTakesTheDecidedTime() {
    h.timeMs = 5_000;
    assertEquals(5_000, h.create("/a").getCreate().getStat().getCtimeMs());
    h.timeMs = 3_000; // a new leader whose wall clock is behind the old one's
    assertEquals(5_000, h.create("/b").getCreate().getStat().getCtimeMs());
    Response set = h.setData("/a", "x");
    assertEquals(5_000, set.getSetData().getStat().getMtimeMs());
    h.noop();
    h.timeMs = 6_000;
    assertEquals(6_000, h.create("/c").getCreate().getStat().getCtimeMs());
  }

  @Test
  void aTtlNodeTouchedUnderALaggingStampIsNotExpiredEarly() {
    h.timeMs = 10_000;
    h.create(createReq("/t").setKind(NodeKind.TTL).setTtlMs(1_000));
    h.timeMs = 3_000; // a new leader's clock is 7 s behind: the touch happens at 10_000 still
    long mzxid = h.setData("/t", "touched").getSetData().getStat().getMzxid();
    assertEquals(10_000, h.stat("/t").getMtimeMs());
    h.timeMs = 4_000;
    assertEquals(List.of(), h.sm.expiredTtlNodes(4_000, 10));
    assertOk(h.expireTtl("/t", mzxid));
    assertTrue(h.nodeExists("/t"), "touched at 10_000, it has 1_000 ms to live from there");
    h.timeMs = 11_000;
    assertOk(h.expireTtl("/t", mzxid));
    assertFalse(h.nodeExists("/t"));
  }

  @Test
  void theDecidedTimeIsInTheSnapshotAndARestoredReplicaAppliesAlike() {
    h.timeMs = 9_000;
    h.create("/a");
    h.timeMs = 1_000;
    h.noop(); // decided time stays 9_000
    Harness restored = new Harness();
    restored.sm.restore(h.sm.snapshot());

    h.timeMs = 2_000;
    restored.timeMs = 2_000;
    Response original = h.create("/b");
    Response replayed = restored.create("/b");
    assertEquals(9_000, original.getCreate().getStat().getCtimeMs());
    assertEquals(original, replayed, "a replica restored from the snapshot decides the same");
  }
}
