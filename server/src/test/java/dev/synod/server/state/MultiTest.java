package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static dev.synod.server.state.Harness.opCheck;
import static dev.synod.server.state.Harness.opCreate;
import static dev.synod.server.state.Harness.opDelete;
import static dev.synod.server.state.Harness.opSetData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.OpResult;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.storage.Snapshot;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class MultiTest {
  private static final long OBSERVER = -1;
  private final Harness h = new Harness();

  private List<String> observed() {
    return h.recorder.drainFor(OBSERVER).stream()
        .map(e -> e.getType() + " " + e.getPath()).toList();
  }

  @Test
  void allOpsApplyAndEachHasItsResultAndEventsComeInOpOrder() {
    h.create("/a", "v0");
    h.create("/gone");
    h.addWatch(OBSERVER, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    h.addWatch(OBSERVER, "/", WatchKind.WATCH_PERSISTENT);
    h.recorder.drain();

    Response r = h.multi(opCheck("/a", 0), opCreate("/b"), opSetData("/a", "v1"),
        opDelete("/gone"));
    assertOk(r);
    List<OpResult> results = r.getMulti().getResultsList();
    assertEquals(4, results.size());
    assertTrue(results.get(0).hasCheck());
    assertEquals("/b", results.get(1).getCreate().getPath());
    assertEquals(r.getZxid(), results.get(1).getCreate().getStat().getCzxid());
    assertEquals(1, results.get(2).getSetData().getStat().getVersion());
    assertTrue(results.get(3).hasDelete());
    assertEquals("v1", h.data("/a"));
    assertFalse(h.nodeExists("/gone"));

    List<WatchEvent> events = h.recorder.drainFor(OBSERVER);
    assertEquals(List.of("NODE_CREATED /b", "NODE_CHILDREN_CHANGED /", "NODE_DATA_CHANGED /a",
        "NODE_DELETED /gone", "NODE_CHILDREN_CHANGED /"),
        events.stream().map(e -> e.getType() + " " + e.getPath()).toList());
    assertTrue(events.stream().allMatch(e -> e.getZxid() == r.getZxid()), "the multi's zxid");
    h.setData("/a", "v2");
    assertEquals(List.of("NODE_DATA_CHANGED /a"), observed());
  }

  @Test
  void aFailingThirdOpLeavesNoTraceAndNoEvents() {
    h.create("/a", "v0");
    h.create("/del");
    h.create("/q");
    h.addWatch(OBSERVER, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    h.getData(OBSERVER, "/a", true);
    h.recorder.drain();
    Snapshot before = h.sm.snapshot();

    Response r = h.multi(
        opCreate(createReq("/q/s-").setSequential(true)),
        opSetData("/a", "changed"),
        opCreate("/missing/child"),
        opDelete("/del"));

    assertError(ErrorReason.NO_NODE, "/missing", r);
    assertTrue(r.getError().getMessage().startsWith("op 2: "), r.getError().getMessage());
    Snapshot after = h.sm.snapshot();
    assertEquals(before.nodes(), after.nodes(), "every node, stat and child count as before");
    assertEquals(before.sessions(), after.sessions());
    assertEquals(before.zxid() + 1, after.zxid());
    assertEquals(List.of(), h.recorder.drain(), "no events for a failed multi");
    assertEquals(2, h.sm.stats().watchCount(), "the one-shot data watch is still there");

    // The per-op results: the failing op has its own error, the others RUNTIME_INCONSISTENCY.
    assertEquals(OptionalInt.of(2), MultiFailure.failedOpIndex(r.getError()));
    MultiResponse perOp = MultiFailure.perOpResults(4, r.getError());
    assertEquals(4, perOp.getResultsCount());
    for (int i : new int[] {0, 1, 3}) {
      assertEquals(ErrorReason.RUNTIME_INCONSISTENCY, perOp.getResults(i).getError().getReason());
    }
    Error failing = perOp.getResults(2).getError();
    assertEquals(ErrorReason.NO_NODE, failing.getReason());
    assertEquals("/missing", failing.getPath());
    assertFalse(failing.getMessage().startsWith("op "), "the op's own error has no prefix");

    // And the next sequential name is as if the multi never happened.
    assertEquals("/q/s-0000000000",
        h.create(createReq("/q/s-").setSequential(true)).getCreate().getPath());
  }

  @Test
  void rollbackRestoresDeletedSubtreesAndContainers() {
    h.create(createReq("/c").setKind(NodeKind.CONTAINER));
    h.create("/c/x", "data");
    h.create("/p");
    h.create("/p/q");
    Snapshot before = h.sm.snapshot();
    Response r = h.multi(opDelete("/c/x"), opDelete("/p/q"), opDelete("/p"), opCheck("/p"));
    assertError(ErrorReason.NO_NODE, "/p", r);
    assertEquals(before.nodes(), h.sm.snapshot().nodes());
    assertEquals(List.of("x"), h.childNames("/c"));
    assertEquals(List.of("q"), h.childNames("/p"));
  }

  @Test
  void anEmptyMultiSucceeds() {
    Response r = h.multi();
    assertOk(r);
    assertTrue(r.hasMulti());
    assertEquals(0, r.getMulti().getResultsCount());
  }

  @Test
  void checkOp() {
    h.create("/a");
    h.setData("/a", "x");
    assertOk(h.multi(opCheck("/a", 1)));
    assertOk(h.multi(opCheck("/a", -1)));
    assertOk(h.multi(opCheck("/a")));
    assertError(ErrorReason.BAD_VERSION, "/a", h.multi(opCheck("/a", 0)));
    assertError(ErrorReason.NO_NODE, "/b", h.multi(opCheck("/b")));
    assertError(ErrorReason.INVALID_PATH, h.multi(opCheck("b")));
  }

  @Test
  void laterOpsSeeEarlierOnes() {
    Response r = h.multi(opCreate("/a"), opCreate("/a/b"), opCheck("/a/b", 0),
        opCreate(createReq("/a/s").setSequential(true)),
        opCreate(createReq("/a/s").setSequential(true)));
    assertOk(r);
    assertEquals("/a/s0000000001", r.getMulti().getResults(3).getCreate().getPath());
    assertEquals("/a/s0000000002", r.getMulti().getResults(4).getCreate().getPath());
    assertEquals(3, h.stat("/a").getNumChildren());
  }

  @Test
  void aContainerEmptiedByOneOpMayBeRefilledByALaterOne() {
    h.create(createReq("/c").setKind(NodeKind.CONTAINER));
    h.create("/c/old");
    assertOk(h.multi(opDelete("/c/old"), opCreate("/c/new")));
    assertEquals(List.of("new"), h.childNames("/c"));
    assertOk(h.multi(opDelete("/c/new")));
    assertFalse(h.nodeExists("/c"), "reaped at the end of the multi");
  }

  @Test
  void errorsOfEveryOpKind() {
    h.create("/a");
    h.create("/a/b");
    assertError(ErrorReason.NODE_EXISTS, h.multi(opCreate("/a")));
    assertError(ErrorReason.NOT_EMPTY, h.multi(opDelete("/a")));
    assertError(ErrorReason.NO_NODE, h.multi(opSetData("/nope", "x")));
    assertError(ErrorReason.EPHEMERAL_NEEDS_SESSION,
        h.multi(opCreate(createReq("/e").setKind(NodeKind.EPHEMERAL))));
    assertError(ErrorReason.BAD_ARGUMENT, h.multi(Op.getDefaultInstance()));
    assertTrue(h.multi(Op.getDefaultInstance()).getError().getMessage().startsWith("op 0: "));
  }

  @Test
  void ephemeralsInAMultiBelongToTheTxnSession() {
    h.openSession(4);
    Response r = h.apply(t -> t.setSessionId(4).setRequestNo(1).setMulti(
        MultiRequest.newBuilder()
            .addOps(opCreate(createReq("/e").setKind(NodeKind.EPHEMERAL)))));
    assertOk(r);
    assertEquals(4, h.stat("/e").getEphemeralOwner());
    h.closeSession(4, false);
    assertFalse(h.nodeExists("/e"));
  }

  @Test
  void perOpResultsRefusesAnErrorThatIsNotAMultiFailure() {
    Error plain = Error.newBuilder().setReason(ErrorReason.NO_NODE).setMessage("x").build();
    assertEquals(OptionalInt.empty(), MultiFailure.failedOpIndex(plain));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> MultiFailure.perOpResults(1, plain));
  }
}
