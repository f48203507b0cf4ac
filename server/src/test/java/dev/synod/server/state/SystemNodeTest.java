package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.txn.v1.SetMembersTxn;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The membership Txn stores the system node /synod/members: created with its parent, readable
 * by anyone, writable by no client; it advances the zxid like any Txn, fires data watches, and
 * takes over a node a client made there before the subtree was reserved.
 */
class SystemNodeTest {
  private final Harness h = new Harness();

  private Response setMembers(String text) {
    return h.apply(t -> t.setSetMembers(SetMembersTxn.newBuilder().setMembers(Harness.bytes(text))));
  }

  @Test
  void theFirstMembershipCreatesTheSystemNodesReadableByAnyone() {
    h.create("/a");
    Response r = setMembers("1 voter h:1\n");
    assertFalse(r.hasError(), r.toString());
    Response got = h.getData(0, Paths.MEMBERS, false);
    assertEquals("1 voter h:1\n", got.getGetData().getData().toStringUtf8());
    assertEquals(r.getZxid(), got.getGetData().getStat().getMzxid());
    Response acl = h.read(0, Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(Paths.MEMBERS)));
    assertEquals(List.of(TreeOps.SYSTEM_ACL), acl.getGetAcl().getAclList());
    assertEquals(TreeOps.SYSTEM_ACL.getPerms(), dev.synod.server.auth.Acls.READ);
  }

  @Test
  void aLaterMembershipChangesTheDataAndFiresItsWatch() {
    setMembers("1 voter h:1\n");
    h.openSession(5);
    Response watched = h.getData(5, Paths.MEMBERS, true);
    assertFalse(watched.hasError(), watched.toString());
    h.recorder.drain();
    setMembers("1 voter h:1\n2 learner h:2\n");
    assertEquals("1 voter h:1\n2 learner h:2\n", h.getData(0, Paths.MEMBERS, false).getGetData().getData().toStringUtf8());
    var events = h.recorder.drain();
    assertEquals(1, events.size(), events.toString());
    assertEquals(EventType.NODE_DATA_CHANGED, events.get(0).event().getType());
  }

  @Test
  void aClientCannotWriteTheSystemNodeEvenIfItReachedApply() {
    setMembers("1 voter h:1\n");
    Response r = h.apply(t -> t.setSetData(SetDataRequest.newBuilder().setPath(Paths.MEMBERS)
        .setData(Harness.bytes("9 voter evil:1"))));
    assertEquals(ErrorReason.NO_AUTH, r.getError().getReason(), r.toString());
    assertEquals("1 voter h:1\n", h.getData(0, Paths.MEMBERS, false).getGetData().getData().toStringUtf8());
  }

  @Test
  void aNodeAClientMadeThereBeforeIsTakenOver() {
    h.create("/synod");
    h.create("/synod/members", "mine");
    Response r = setMembers("1 voter h:1\n");
    assertFalse(r.hasError(), r.toString());
    assertEquals("1 voter h:1\n", h.getData(0, Paths.MEMBERS, false).getGetData().getData().toStringUtf8());
    Response acl = h.read(0, Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(Paths.SYSTEM)));
    assertEquals(List.<Acl>of(TreeOps.SYSTEM_ACL), acl.getGetAcl().getAclList());
  }

  /**
   * A full hard quota on / must not keep the membership out of the tree: it would still govern,
   * but a restart after the log tail is truncated would forget it (the snapshot carries it only
   * through this node) and start from stale voters.
   */
  @Test
  void aFullHardQuotaOnTheRootDoesNotKeepTheMembershipOut() {
    h.create("/a", "1234");
    Response q = h.apply(t -> t.setSetQuota(dev.synod.api.v1.SetQuotaRequest.newBuilder().setPath("/")
        .setQuota(dev.synod.api.v1.Quota.newBuilder().setCountHard(1).setBytesHard(4))));
    assertFalse(q.hasError(), q.toString());
    Response full = h.apply(t -> t.setCreate(dev.synod.api.v1.CreateRequest.newBuilder().setPath("/b")));
    assertEquals(ErrorReason.QUOTA_EXCEEDED, full.getError().getReason(), full.toString());
    Response r = setMembers("1 voter h:1\n2 voter h:2\n");
    assertFalse(r.hasError(), r.toString());
    assertEquals("1 voter h:1\n2 voter h:2\n", h.getData(0, Paths.MEMBERS, false).getGetData().getData().toStringUtf8());
    assertFalse(setMembers("1 voter h:1\n2 voter h:2\n3 learner h:3\n").hasError());
  }

  @Test
  void systemPathsAreTheSubtreeOnly() {
    assertTrue(Paths.isSystem("/synod"));
    assertTrue(Paths.isSystem("/synod/members"));
    assertTrue(Paths.isSystem("/synod/x/y"));
    assertFalse(Paths.isSystem("/synodic"));
    assertFalse(Paths.isSystem("/"));
    assertFalse(Paths.isSystem("/a/synod"));
  }
}
