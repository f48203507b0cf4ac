package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * FIFO client order in the state machine: a write naming its session's previous write
 * (after_request_no) applies only once that one has, so a write lost on its way (with a leader,
 * in a queue) is never overtaken by a later one of the same session.
 */
class SessionFifoTest {
  private final Harness h = new Harness(new StateLimits(100, 100, 1000, 1 << 20));

  Response create(long requestNo, long after, CreateRequest.Builder request) {
    return h.apply(t -> t.setSessionId(1).setRequestNo(requestNo).setAfterRequestNo(after).setCreate(request));
  }

  @Test
  void aWriteWhosePredecessorHasNotAppliedIsRefusedAndAppliesOnceResentBehindIt() {
    h.openSession(1);
    h.create("/q");
    h.addWatch(-1, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    assertOk(create(1, 0, createReq("/q/job-").setSequential(true)));
    h.recorder.drain();

    // Request 2 was lost with a leader; request 3, which follows it, reaches the log first.
    long zxidBefore = h.sm.lastZxid();
    Response refused = create(3, 2, createReq("/q/job-").setSequential(true));
    assertError(ErrorReason.OUT_OF_ORDER, refused);
    assertEquals(1, refused.getLastAppliedRequestNo(), "names the last write applied");
    assertEquals(zxidBefore + 1, refused.getZxid());
    assertEquals(List.of("job-0000000000"), h.childNames("/q"), "not applied");
    assertEquals(List.of(), h.recorder.drain(), "no events");

    // The client sends both again, in order, with their numbers.
    assertOk(create(2, 1, createReq("/q/job-").setSequential(true).setData(Harness.bytes("two"))));
    Response three = create(3, 2, createReq("/q/job-").setSequential(true).setData(Harness.bytes("three")));
    assertOk(three);
    assertEquals("/q/job-0000000002", three.getCreate().getPath(), "applied after two, in order");
    assertEquals(three, create(3, 2, createReq("/q/job-").setSequential(true).setData(Harness.bytes("three"))),
        "a refusal is not remembered: the retry that applied is the one deduplicated");
  }

  @Test
  void aRetryOfAnAppliedWriteIsDeduplicatedBeforeItsChainIsLookedAt() {
    h.openSession(1);
    Response first = create(1, 0, createReq("/a"));
    assertOk(first);
    assertOk(create(2, 1, createReq("/b")));
    assertEquals(first, create(1, 0, createReq("/a")));
    assertEquals(first, create(1, 7, createReq("/a")), "even naming a predecessor never applied");
  }

  @Test
  void aPredecessorOvertakenByALaterAppliedWriteSatisfiesTheChain() {
    h.openSession(1);
    assertOk(create(1, 0, createReq("/a")));
    assertOk(create(2, 1, createReq("/b")));
    // The client gave up on request 3 (its outcome unknown) and chains 4 to the last write the
    // server reported applied.
    assertOk(create(4, 2, createReq("/d")));
    // 3 named, 4 applied: nothing can still come between.
    assertOk(create(5, 3, createReq("/e")));
    // Request 3 turns up late: it can no longer apply behind a later write.
    assertError(ErrorReason.REQUEST_TOO_OLD, create(3, 2, createReq("/c")));
    assertFalse(h.nodeExists("/c"));
  }

  @Test
  void unchainedWritesApplyAsBefore() {
    h.openSession(1);
    assertOk(create(5, 0, createReq("/a")));
    assertOk(create(9, 0, createReq("/b")));
    assertTrue(h.nodeExists("/a") && h.nodeExists("/b"));
    assertOk(h.create(createReq("/no-session")));
  }

  @Test
  void theChainSurvivesASnapshot() {
    h.openSession(1);
    assertOk(create(1, 0, createReq("/a")));
    Harness restored = new Harness(new StateLimits(100, 100, 1000, 1 << 20));
    restored.sm.restore(h.sm.snapshot());
    assertError(ErrorReason.OUT_OF_ORDER,
        restored.apply(t -> t.setSessionId(1).setRequestNo(3).setAfterRequestNo(2).setCreate(createReq("/c"))));
    assertOk(restored.apply(t -> t.setSessionId(1).setRequestNo(2).setAfterRequestNo(1).setCreate(createReq("/b"))));
  }
}
