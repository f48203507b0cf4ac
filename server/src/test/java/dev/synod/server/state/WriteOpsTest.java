package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** delete, set_data and set_acl: effects, version conditions and every error they produce. */
class WriteOpsTest {
  private static final Acl READ_ADMIN =
      Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1 | 16).build();
  private static final Acl READ_ONLY =
      Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1).build();

  private final Harness h = new Harness();

  @Test
  void deleteRemovesTheNodeAndUpdatesTheParent() {
    h.create("/a");
    h.create("/a/b");
    Stat before = h.stat("/a");
    Response r = h.delete("/a/b");
    assertOk(r);
    assertTrue(r.hasDelete());
    assertFalse(h.nodeExists("/a/b"));
    Stat after = h.stat("/a");
    assertEquals(before.getCversion() + 1, after.getCversion());
    assertEquals(r.getZxid(), after.getPzxid());
    assertEquals(0, after.getNumChildren());
  }

  @Test
  void deleteErrors() {
    assertError(ErrorReason.NO_NODE, "/missing", h.delete("/missing"));
    assertError(ErrorReason.INVALID_PATH, h.delete("bad"));
    assertError(ErrorReason.BAD_ARGUMENT, "/", h.delete("/"));
    h.create("/a");
    h.create("/a/b");
    assertError(ErrorReason.NOT_EMPTY, "/a", h.delete("/a"));
    h.setData("/a/b", "v1");
    assertError(ErrorReason.BAD_VERSION, "/a/b", h.delete("/a/b", 0));
    assertTrue(h.nodeExists("/a/b"));
  }

  @Test
  void deleteVersionConditions() {
    h.create("/exact");
    h.setData("/exact", "x");
    assertOk(h.delete("/exact", 1));
    h.create("/any");
    h.setData("/any", "x");
    assertOk(h.delete("/any", -1));
    h.create("/absent");
    h.setData("/absent", "x");
    assertOk(h.apply(t -> t.setDelete(DeleteRequest.newBuilder().setPath("/absent"))));
  }

  @Test
  void setDataBumpsVersionAndMtimeOnly() {
    h.timeMs = 100;
    Response created = h.create("/a", "one");
    h.timeMs = 200;
    Response r = h.setData("/a", "three");
    assertOk(r);
    Stat s = r.getSetData().getStat();
    assertEquals(created.getZxid(), s.getCzxid());
    assertEquals(r.getZxid(), s.getMzxid());
    assertEquals(created.getZxid(), s.getPzxid());
    assertEquals(100, s.getCtimeMs());
    assertEquals(200, s.getMtimeMs());
    assertEquals(1, s.getVersion());
    assertEquals(0, s.getCversion());
    assertEquals(0, s.getAversion());
    assertEquals(5, s.getDataLength());
    assertEquals(s, h.stat("/a"));
    assertEquals("three", h.data("/a"));
  }

  @Test
  void setDataVersionConditions() {
    h.create("/a");
    assertOk(h.setData("/a", "1", 0));
    assertError(ErrorReason.BAD_VERSION, "/a", h.setData("/a", "2", 0));
    assertOk(h.setData("/a", "2", -1));
    assertOk(h.apply(t -> t.setSetData(SetDataRequest.newBuilder().setPath("/a"))));
    assertEquals(3, h.stat("/a").getVersion());
  }

  @Test
  void setDataErrors() {
    assertError(ErrorReason.NO_NODE, "/missing", h.setData("/missing", "x"));
    assertError(ErrorReason.INVALID_PATH, h.setData("/a//b", "x"));
  }

  @Test
  void setAclReplacesTheAclBumpsAversionAndFiresNothing() {
    h.create("/a", "d");
    h.addWatch(-1, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    h.recorder.drain();
    Stat before = h.stat("/a");
    Response r = setAcl("/a", null, READ_ONLY);
    assertOk(r);
    Stat after = r.getSetAcl().getStat();
    assertEquals(1, after.getAversion());
    assertEquals(before.toBuilder().setAversion(1).build(), after, "only aversion changes");
    assertEquals(List.of(READ_ONLY), acl("/a"));
    assertEquals(List.of(), h.recorder.drain(), "ZooKeeper fires no watch for an ACL change");
  }

  @Test
  void setAclVersionConditionsAndErrors() {
    h.create("/a");
    assertOk(setAcl("/a", 0, READ_ADMIN));
    assertError(ErrorReason.BAD_VERSION, "/a", setAcl("/a", 0, READ_ADMIN));
    assertOk(setAcl("/a", -1, READ_ADMIN));
    assertOk(setAcl("/a", null, READ_ADMIN));
    assertEquals(3, h.stat("/a").getAversion());
    assertError(ErrorReason.NO_NODE, "/missing", setAcl("/missing", null, READ_ADMIN));
    assertError(ErrorReason.INVALID_PATH, setAcl("a", null, READ_ADMIN));
    assertError(ErrorReason.INVALID_ACL, "/a", setAcl("/a", null));
    assertError(ErrorReason.INVALID_ACL, setAcl("/a", null, READ_ADMIN.toBuilder().setPerms(64).build()));
    assertError(ErrorReason.INVALID_ACL, setAcl("/a", null, READ_ADMIN.toBuilder().setScheme("").build()));
    assertEquals(3, h.stat("/a").getAversion());
    // Without ADMIN, even the aversion check is not reached.
    assertOk(setAcl("/a", null, READ_ONLY));
    assertError(ErrorReason.NO_AUTH, "/a", setAcl("/a", 0, READ_ADMIN));
  }

  private Response setAcl(String path, Integer aversion, Acl... acl) {
    SetAclRequest.Builder request = SetAclRequest.newBuilder().setPath(path).addAllAcl(List.of(acl));
    if (aversion != null) {
      request.setAversion(aversion);
    }
    return h.apply(t -> t.setSetAcl(request));
  }

  private List<Acl> acl(String path) {
    return h.read(0, Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(path)))
        .getGetAcl().getAclList();
  }

  @Test
  void getAclErrors() {
    Response missing =
        h.read(0, Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath("/nope")));
    assertError(ErrorReason.NO_NODE, "/nope", missing);
  }

  @Test
  void writesWithAnUnknownSessionAreSessionExpired() {
    h.create("/a");
    assertError(ErrorReason.SESSION_EXPIRED, h.apply(t -> t.setSessionId(9)
        .setDelete(DeleteRequest.newBuilder().setPath("/a"))));
    assertError(ErrorReason.SESSION_EXPIRED, h.apply(t -> t.setSessionId(9)
        .setSetData(SetDataRequest.newBuilder().setPath("/a"))));
    assertError(ErrorReason.SESSION_EXPIRED, h.apply(t -> t.setSessionId(9)
        .setSetAcl(SetAclRequest.newBuilder().setPath("/a").addAcl(READ_ONLY))));
    assertError(ErrorReason.SESSION_EXPIRED, h.apply(t -> t.setSessionId(9)
        .setMulti(MultiRequest.getDefaultInstance())));
    assertTrue(h.nodeExists("/a"));
  }
}
