package dev.synod.server.state;

import static dev.synod.server.state.Harness.createReq;
import static dev.synod.server.state.Harness.opCreate;
import static dev.synod.server.state.Harness.opDelete;
import static dev.synod.server.state.Harness.opSetData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetQuotaRequest;
import dev.synod.api.v1.GetQuotaResponse;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.QuotaUsage;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetQuotaRequest;
import org.junit.jupiter.api.Test;

/** Subtree quotas: hard limits exactly at the boundary, usage after every kind of change. */
class QuotaTest {
  private final Harness h = new Harness();

  private Response setQuota(String path, Quota quota) {
    return h.apply(t -> t.setSetQuota(SetQuotaRequest.newBuilder().setPath(path).setQuota(quota)));
  }

  private GetQuotaResponse get(Harness on, String path) {
    Response r = on.read(0, Request.newBuilder().setGetQuota(GetQuotaRequest.newBuilder().setPath(path)));
    assertFalse(r.hasError(), r.toString());
    return r.getGetQuota();
  }

  private static QuotaUsage usage(long count, long bytes) {
    return QuotaUsage.newBuilder().setCount(count).setBytes(bytes).build();
  }

  private static void assertReason(ErrorReason reason, Response r) {
    assertEquals(reason, r.getError().getReason(), r.toString());
  }

  @Test
  void countLimitRefusesExactlyTheCreateOverIt() {
    h.create("/app", "12345");
    h.create("/app/a");
    Response set = setQuota("/app", Quota.newBuilder().setCountHard(4).build());
    assertEquals(usage(2, 5), set.getSetQuota().getUsage(), "counted when set: /app and /app/a");
    assertFalse(h.create("/app/b").hasError(), "3 of 4");
    assertFalse(h.create("/app/a/c").hasError(), "4 of 4: at the limit is allowed");
    Response over = h.create("/app/d");
    assertReason(ErrorReason.QUOTA_EXCEEDED, over);
    assertEquals("/app/d", over.getError().getPath());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.create("/app/a/c/deeper"));
    assertFalse(h.create("/elsewhere").hasError(), "outside the subtree: no limit");
    assertFalse(h.delete("/app/b").hasError());
    assertEquals(usage(3, 5), get(h, "/app").getUsage(), "a delete gives room back");
    assertFalse(h.create("/app/d").hasError());
  }

  @Test
  void bytesLimitCountsCreatesAndSetDataDeltas() {
    h.create("/q");
    setQuota("/q", Quota.newBuilder().setBytesHard(10).build());
    assertFalse(h.create("/q/a", "123456").hasError());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.create("/q/b", "12345"));
    assertFalse(h.create("/q/b", "1234").hasError(), "exactly 10 bytes");
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.setData("/q/a", "1234567"));
    assertFalse(h.setData("/q/a", "1").hasError(), "shrinking is always allowed");
    assertEquals(usage(3, 5), get(h, "/q").getUsage());
    assertFalse(h.setData("/q/b", "123456789").hasError(), "1 + 9 = 10");
    assertFalse(h.setData("/q", "").hasError(), "a set of equal size is no growth");
  }

  @Test
  void nestedQuotasAreAllChecked() {
    h.create("/a");
    h.create("/a/b");
    setQuota("/a", Quota.newBuilder().setCountHard(3).build());
    setQuota("/a/b", Quota.newBuilder().setCountHard(10).build());
    assertFalse(h.create("/a/b/1").hasError());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.create("/a/b/2"));
    assertEquals(usage(2, 0), get(h, "/a/b").getUsage());
  }

  @Test
  void aFailedMultiLeavesUsageAsItWasAndAMultiIsCheckedOpByOp() {
    h.create("/m");
    setQuota("/m", Quota.newBuilder().setCountHard(3).setBytesHard(100).build());
    Response failed = h.multi(opCreate("/m/a"), opCreate("/m/b"), opCreate("/m/c"));
    assertReason(ErrorReason.QUOTA_EXCEEDED, failed);
    assertEquals(usage(1, 0), get(h, "/m").getUsage(), "rolled back");
    assertFalse(h.multi(opCreate("/m/a"), opDelete("/m/a"), opCreate("/m/b"), opCreate("/m/c"))
        .hasError(), "a delete inside the multi makes room for a later create");
    assertEquals(usage(3, 0), get(h, "/m").getUsage());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.multi(opSetData("/m/b", "x".repeat(101))));
    assertEquals(usage(3, 0), get(h, "/m").getUsage());
  }

  @Test
  void removingAQuotaAndDeletingItsNodeForgetIt() {
    h.create("/r");
    setQuota("/r", Quota.newBuilder().setCountHard(1).build());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.create("/r/x"));
    setQuota("/r", Quota.getDefaultInstance());
    assertFalse(get(h, "/r").getHasQuota());
    assertFalse(h.create("/r/x").hasError());
    h.delete("/r/x");
    setQuota("/r", Quota.newBuilder().setCountHard(1).build());
    assertFalse(h.delete("/r").hasError());
    assertFalse(h.create("/r").hasError());
    assertFalse(h.create("/r/x").hasError(), "the quota went with its node");
  }

  @Test
  void softLimitsAreReportedNotEnforced() {
    h.create("/s");
    setQuota("/s", Quota.newBuilder().setCountSoft(2).setBytesSoft(3).build());
    assertEquals(java.util.List.of(), h.sm.quotaWarnings());
    assertFalse(h.create("/s/a", "1234").hasError());
    assertFalse(h.create("/s/b").hasError());
    assertEquals(java.util.List.of("/s: count 3 > soft 2", "/s: bytes 4 > soft 3"), h.sm.quotaWarnings());
  }

  @Test
  void usageIsRecountedFromASnapshotAndKeptInStepAfterwards() {
    h.create("/p", "ab");
    h.create("/p/x", "cde");
    setQuota("/p", Quota.newBuilder().setCountHard(4).setBytesHard(20).build());
    h.create("/p/x/y", "f");
    Harness restored = new Harness();
    restored.sm.restore(h.sm.snapshot());
    assertEquals(get(h, "/p"), get(restored, "/p"));
    assertEquals(usage(3, 6), get(restored, "/p").getUsage());
    assertFalse(restored.create("/p/z").hasError());
    assertReason(ErrorReason.QUOTA_EXCEEDED, restored.create("/p/w"));
    assertTrue(restored.sm.snapshot().nodes().get("/p").hasQuota(), "the quota is in the tree");
  }

  @Test
  void ephemeralsOfAClosedSessionGiveTheirRoomBack() {
    h.openSession(9);
    h.create("/e");
    setQuota("/e", Quota.newBuilder().setCountHard(2).build());
    assertFalse(h.create(9, 1, createReq("/e/mine").setKind(dev.synod.api.v1.NodeKind.EPHEMERAL))
        .hasError());
    assertReason(ErrorReason.QUOTA_EXCEEDED, h.create("/e/other"));
    h.closeSession(9, true);
    assertEquals(usage(1, 0), get(h, "/e").getUsage());
    assertFalse(h.create("/e/other").hasError());
  }
}
