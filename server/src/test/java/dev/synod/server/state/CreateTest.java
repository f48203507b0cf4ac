package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.bytes;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.Stat;
import java.util.List;
import org.junit.jupiter.api.Test;

class CreateTest {
  private final Harness h = new Harness();

  @Test
  void createSetsEveryStatFieldAndUpdatesTheParent() {
    assertOk(h.create("/app"));
    Stat parentBefore = h.stat("/app");
    h.timeMs = 5_000_000;
    Response r = h.create("/app/x", "hello");
    assertOk(r);
    long zxid = r.getZxid();
    assertEquals(h.sm.lastZxid(), zxid);
    assertEquals("/app/x", r.getCreate().getPath());
    Stat expected = Stat.newBuilder()
        .setCzxid(zxid).setMzxid(zxid).setPzxid(zxid)
        .setCtimeMs(5_000_000).setMtimeMs(5_000_000)
        .setDataLength(5).setKind(NodeKind.PERSISTENT)
        .build();
    assertEquals(expected, r.getCreate().getStat());
    assertEquals(expected, h.stat("/app/x"));
    assertEquals("hello", h.data("/app/x"));

    Stat parent = h.stat("/app");
    assertEquals(parentBefore.getCversion() + 1, parent.getCversion());
    assertEquals(zxid, parent.getPzxid());
    assertEquals(1, parent.getNumChildren());
    assertEquals(parentBefore.getMzxid(), parent.getMzxid(), "a child is not a data change");
    assertEquals(parentBefore.getVersion(), parent.getVersion());
  }

  @Test
  void responseCarriesRequestNoAndZxid() {
    h.openSession(5);
    Response r = h.create(5, 42, createReq("/a"));
    assertEquals(42, r.getRequestNo());
    assertEquals(h.sm.lastZxid(), r.getZxid());
  }

  @Test
  void emptyAclMeansWorldAnyoneAllAndAGivenAclIsKept() {
    h.create("/open");
    // READ for anyone (so the anonymous getAcl below may look), DELETE for bob.
    Acl digest = Acl.newBuilder().setScheme("digest").setId("bob:xyz").setPerms(8).build();
    Acl world = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1).build();
    h.create(createReq("/guarded").addAcl(digest).addAcl(world));
    assertEquals(List.of(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build()),
        acl("/open"));
    assertEquals(List.of(digest, world), acl("/guarded"));
  }

  private List<Acl> acl(String path) {
    return h.read(0, Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(path)))
        .getGetAcl().getAclList();
  }

  @Test
  void invalidPath() {
    assertError(ErrorReason.INVALID_PATH, h.create("no-slash"));
    assertError(ErrorReason.INVALID_PATH, h.create("/a/"));
  }

  @Test
  void missingParentIsNoNodeNamingTheParent() {
    assertError(ErrorReason.NO_NODE, "/a/b", h.create("/a/b/c"));
  }

  @Test
  void existingNodeIsNodeExists() {
    h.create("/a");
    assertError(ErrorReason.NODE_EXISTS, "/a", h.create("/a"));
    assertError(ErrorReason.NODE_EXISTS, "/", h.create("/"));
  }

  @Test
  void noChildrenUnderEphemerals() {
    h.openSession(1);
    assertOk(h.create(1, 0, createReq("/e").setKind(NodeKind.EPHEMERAL)));
    assertError(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS, "/e", h.create("/e/child"));
  }

  @Test
  void applyHasNoSizeLimitOfItsOwn() {
    // Value and path sizes are the entry server's settings, checked before the log: apply must
    // decide alike on members whose settings differ, so it takes what was decided.
    String big = "v".repeat(2 << 20);
    assertOk(h.create("/big", big));
    assertEquals(big.length(), h.stat("/big").getDataLength());
    String longPath = "/" + "p".repeat(10_000);
    assertOk(h.create(longPath));
    assertOk(h.create(createReq(longPath + "/").setSequential(true)));
  }

  @Test
  void ttlRules() {
    assertError(ErrorReason.INVALID_TTL, h.create(createReq("/t").setKind(NodeKind.TTL)));
    assertError(ErrorReason.INVALID_TTL,
        h.create(createReq("/t").setKind(NodeKind.TTL).setTtlMs(-5)));
    assertError(ErrorReason.INVALID_TTL, h.create(createReq("/p").setTtlMs(1000)));
    assertError(ErrorReason.INVALID_TTL,
        h.create(createReq("/c").setKind(NodeKind.CONTAINER).setTtlMs(1000)));
    Response ok = h.create(createReq("/t").setKind(NodeKind.TTL).setTtlMs(1000));
    assertOk(ok);
    assertEquals(NodeKind.TTL, ok.getCreate().getStat().getKind());
    assertEquals(1000, ok.getCreate().getStat().getTtlMs());
  }

  @Test
  void ephemeralNeedsASessionAndRecordsItsOwner() {
    assertError(ErrorReason.EPHEMERAL_NEEDS_SESSION,
        h.create(createReq("/e").setKind(NodeKind.EPHEMERAL)));
    h.openSession(77);
    Response r = h.create(77, 0, createReq("/e").setKind(NodeKind.EPHEMERAL));
    assertEquals(77, r.getCreate().getStat().getEphemeralOwner());
    Response persistent = h.create(77, 0, createReq("/p"));
    assertEquals(0, persistent.getCreate().getStat().getEphemeralOwner());
  }

  @Test
  void invalidAcl() {
    Acl good = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1).build();
    assertError(ErrorReason.INVALID_ACL, h.create(createReq("/a").addAcl(good.toBuilder().setScheme(""))));
    assertError(ErrorReason.INVALID_ACL, h.create(createReq("/a").addAcl(good.toBuilder().setId(""))));
    assertError(ErrorReason.INVALID_ACL, h.create(createReq("/a").addAcl(good.toBuilder().setPerms(0))));
    assertError(ErrorReason.INVALID_ACL, h.create(createReq("/a").addAcl(good.toBuilder().setPerms(32))));
    assertError(ErrorReason.INVALID_ACL, h.create(createReq("/a").addAcl(good.toBuilder().setPerms(-1))));
    assertOk(h.create(createReq("/a").addAcl(good).addAcl(good.toBuilder().setPerms(31))));
  }

  @Test
  void unknownSessionIsSessionExpired() {
    assertError(ErrorReason.SESSION_EXPIRED, h.create(99, 1, createReq("/a")));
    assertFalse(h.nodeExists("/a"));
  }

  @Test
  void unknownKindIsBadArgument() {
    assertError(ErrorReason.BAD_ARGUMENT, h.create(createReq("/a").setKindValue(99)));
  }

  @Test
  void failedCreateLeavesNoTraceButAdvancesTheZxid() {
    h.create("/a");
    var before = h.sm.snapshot();
    assertError(ErrorReason.NODE_EXISTS, h.create("/a"));
    var after = h.sm.snapshot();
    assertEquals(before.zxid() + 1, after.zxid());
    assertEquals(before.nodes(), after.nodes());
    assertEquals(List.of(), h.recorder.events);
  }

  @Test
  void sequentialNamesUseTheParentsCversionWithTenDigits() {
    h.create("/q");
    h.create("/other");
    assertEquals("/q/job-0000000000", seq("/q/job-"));
    assertEquals("/q/job-0000000001", seq("/q/job-"));
    assertEquals("/q/0000000002", seq("/q/"), "a sequential path may end with '/'");
    assertEquals("/other/0000000000", seq("/other/"), "the counter is per parent");
    // The counter is the cversion, which deletes advance too (ZooKeeper's rule).
    assertOk(h.delete("/q/0000000002"));
    assertEquals("/q/lock-0000000004", seq("/q/lock-"));
    assertEquals(List.of("job-0000000000", "job-0000000001", "lock-0000000004"),
        h.childNames("/q"));
    assertEquals("/0000000002", seq("/"), "at the root too, after /q and /other");
  }

  @Test
  void sequentialEphemeral() {
    h.openSession(3);
    h.create("/election");
    Response r = h.create(3, 0,
        createReq("/election/n-").setKind(NodeKind.EPHEMERAL).setSequential(true));
    assertEquals("/election/n-0000000000", r.getCreate().getPath());
    assertEquals(3, h.stat("/election/n-0000000000").getEphemeralOwner());
  }

  private String seq(String prefix) {
    Response r = h.create(createReq(prefix).setSequential(true).setData(bytes("x")));
    assertOk(r);
    return r.getCreate().getPath();
  }
}
