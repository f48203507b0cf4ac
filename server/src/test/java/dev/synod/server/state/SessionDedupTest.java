package dev.synod.server.state;

import static dev.synod.server.state.Harness.assertError;
import static dev.synod.server.state.Harness.assertOk;
import static dev.synod.server.state.Harness.createReq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchKind;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.SessionRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sessions in the replicated state, and request-number deduplication of retried writes. */
class SessionDedupTest {
  private final Harness h = new Harness();

  @Test
  void createSessionAnswersAnEmptyResponseAndIsVisible() {
    Response r = h.apply(t -> t.setSessionId(9).setRequestNo(4)
        .setCreateSession(CreateSessionTxn.newBuilder().setSecret(1234).setTimeoutMs(6000)));
    assertEquals(Response.newBuilder().setRequestNo(4).setZxid(r.getZxid()).build(), r);
    assertEquals(new StateMachine.SessionInfo(9, 1234, 6000), h.sm.session(9).orElseThrow());
    h.openSession(3);
    h.openSession(12);
    assertEquals(List.of(3L, 9L, 12L),
        h.sm.sessions().stream().map(StateMachine.SessionInfo::id).toList());
    assertEquals(3, h.sm.stats().sessionCount());
  }

  @Test
  void createSessionWithATakenOrZeroIdIsBadArgument() {
    h.openSession(9);
    assertError(ErrorReason.BAD_ARGUMENT, h.openSession(9));
    assertError(ErrorReason.BAD_ARGUMENT, h.openSession(0));
    assertEquals(1, h.sm.sessions().size());
  }

  @Test
  void aRetriedRequestReturnsTheIdenticalResponseAndIsNotAppliedAgain() {
    h.openSession(1);
    h.create("/q");
    h.addWatch(-1, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);
    Response first = h.create(1, 1, createReq("/q/job-").setSequential(true));
    assertOk(first);
    h.recorder.drain();
    long zxidBefore = h.sm.lastZxid();

    Response retry = h.create(1, 1, createReq("/q/job-").setSequential(true));
    assertEquals(first, retry, "identical, down to the original zxid");
    assertEquals(zxidBefore + 1, h.sm.lastZxid(), "the retry still takes a zxid");
    assertEquals(List.of("job-0000000000"), h.childNames("/q"), "no second sequential node");
    assertEquals(List.of(), h.recorder.drain(), "no events for a deduplicated retry");
  }

  @Test
  void aRetriedFailureReturnsTheSameFailure() {
    h.openSession(1);
    Response first = h.create(1, 1, createReq("/missing/child"));
    assertError(ErrorReason.NO_NODE, first);
    h.create("/missing");
    assertEquals(first, h.create(1, 1, createReq("/missing/child")));
    assertFalse(h.nodeExists("/missing/child"));
  }

  @Test
  void requestsOlderThanTheWindowAreRequestTooOld() {
    h.openSession(1, 3);
    Response[] results = new Response[6];
    for (int i = 1; i <= 5; i++) {
      results[i] = h.create(1, i, createReq("/n" + i));
    }
    // The window holds 3: requests 3, 4 and 5.
    assertError(ErrorReason.REQUEST_TOO_OLD, h.create(1, 1, createReq("/n1")));
    assertError(ErrorReason.REQUEST_TOO_OLD, h.create(1, 2, createReq("/n2")));
    for (int i = 3; i <= 5; i++) {
      assertEquals(results[i], h.create(1, i, createReq("/n" + i)));
    }
    SessionRecord record = h.sm.snapshot().sessions().get(0);
    assertEquals(5, record.getLastRequestNo());
    assertEquals(3, record.getRecentResultsMax());
    assertEquals(List.of(3L, 4L, 5L), record.getRecentResultsList().stream()
        .map(c -> c.getRequestNo()).toList());
    assertTrue(record.getRecentResultsList().stream()
        .allMatch(c -> c.getRequestDigest().size() == 32), "a fixed-size digest beside each result");
  }

  @Test
  void theWindowComesFromTheSessionsCreateTxnNotFromTheReplica() {
    h.openSession(1, 2);
    h.openSession(2, 0); // not said (an older log): the state machine's default
    h.openSession(3, Integer.MAX_VALUE); // clamped to the ceiling
    for (int i = 1; i <= 3; i++) {
      h.create(1, i, createReq("/one-" + i));
    }
    assertError(ErrorReason.REQUEST_TOO_OLD, h.create(1, 1, createReq("/one-1")));
    List<SessionRecord> records = h.sm.snapshot().sessions();
    assertEquals(List.of(2, ReplicatedLimits.RECENT_RESULTS_DEFAULT, ReplicatedLimits.RECENT_RESULTS_MAX),
        records.stream().map(SessionRecord::getRecentResultsMax).toList());
    Harness restored = new Harness();
    restored.sm.restore(h.sm.snapshot());
    assertError(ErrorReason.REQUEST_TOO_OLD, restored.create(1, 1, createReq("/one-1")));
    assertEquals(h.sm.snapshot().sessions(), restored.sm.snapshot().sessions());
  }

  @Test
  void aSkippedRequestNumberBelowTheLastIsRequestTooOld() {
    h.openSession(1);
    h.create(1, 2, createReq("/a"));
    h.create(1, 5, createReq("/b"));
    Response skipped = h.create(1, 4, createReq("/c"));
    assertError(ErrorReason.REQUEST_TOO_OLD, skipped);
    assertFalse(h.nodeExists("/c"));
    // The window (1024) has dropped nothing: 4 was never sent, not "older than the retained results".
    String message = skipped.getError().getMessage();
    assertTrue(message.contains("request 4 was never applied by this session"), message);
    assertTrue(message.contains("a new write needs a request_no above 5"), message);
    assertFalse(message.contains("older than"), message);
  }

  @Test
  void aNumberThatLeftTheWindowSaysSo() {
    h.openSession(1, 3);
    for (int i = 1; i <= 5; i++) {
      h.create(1, i, createReq("/w" + i));
    }
    String message = h.create(1, 2, createReq("/w2")).getError().getMessage();
    assertTrue(message.contains("request 2 is older than the 3 results this session keeps"), message);
  }

  @Test
  void requestNumberZeroOrNoSessionMeansNoDedup() {
    h.openSession(1);
    h.create("/q");
    assertOk(h.create(1, 0, createReq("/q/").setSequential(true)));
    assertOk(h.create(1, 0, createReq("/q/").setSequential(true)));
    assertOk(h.create(0, 3, createReq("/q/").setSequential(true)));
    assertOk(h.create(0, 3, createReq("/q/").setSequential(true)));
    assertEquals(4, h.childNames("/q").size());
  }

  @Test
  void aRequestNumberReusedForADifferentWriteIsRefusedAndTheWriteIsNotDropped() {
    h.openSession(1);
    Response first = h.create(1, 1, createReq("/a"));
    assertOk(first);
    h.addWatch(-1, "/", WatchKind.WATCH_PERSISTENT_RECURSIVE);

    Response reused = h.create(1, 1, createReq("/b"));
    assertError(ErrorReason.REQUEST_NO_REUSED, reused);
    assertEquals(1, reused.getRequestNo());
    assertFalse(reused.hasCreate(), "never the earlier write's answer");
    assertFalse(h.nodeExists("/b"));
    assertError(ErrorReason.REQUEST_NO_REUSED, h.create(1, 1, createReq("/a").setData(Harness.bytes("x"))));
    assertError(ErrorReason.REQUEST_NO_REUSED, h.apply(t -> t.setSessionId(1).setRequestNo(1)
        .setDelete(DeleteRequest.newBuilder().setPath("/a"))));
    assertTrue(h.nodeExists("/a"));
    assertEquals(List.of(), h.recorder.drain(), "nothing changed");

    assertEquals(first, h.create(1, 1, createReq("/a")), "the true retry still gets the original");
    assertOk(h.create(1, 2, createReq("/b")));
    assertTrue(h.nodeExists("/b"));
  }

  @Test
  void aReusedNumberOfAFailedWriteIsRefusedToo() {
    h.openSession(1);
    Response failed = h.create(1, 1, createReq("/missing/child"));
    assertError(ErrorReason.NO_NODE, failed);
    assertError(ErrorReason.REQUEST_NO_REUSED, h.create(1, 1, createReq("/other")));
    assertFalse(h.nodeExists("/other"));
  }

  @Test
  void theRequestDigestSurvivesSnapshotAndRestore() {
    h.openSession(1);
    Response first = h.create(1, 1, createReq("/a"));
    Harness restored = new Harness(h.limits);
    restored.sm.restore(h.sm.snapshot());
    assertError(ErrorReason.REQUEST_NO_REUSED, restored.create(1, 1, createReq("/b")));
    assertEquals(first, restored.create(1, 1, createReq("/a")));
  }

  @Test
  void dedupStateSurvivesSnapshotAndRestore() {
    h.openSession(1);
    Response first = h.create(1, 1, createReq("/a"));
    var snapshot = h.sm.snapshot();
    Harness restored = new Harness(h.limits);
    restored.sm.restore(snapshot);
    assertEquals(first, restored.create(1, 1, createReq("/a")));
    assertOk(restored.create(1, 2, createReq("/b")));
    assertTrue(restored.nodeExists("/b"));
  }

  @Test
  void eachSessionHasItsOwnRequestNumbers() {
    h.openSession(1);
    h.openSession(2);
    assertOk(h.create(1, 1, createReq("/one")));
    assertOk(h.create(2, 1, createReq("/two")));
    assertTrue(h.nodeExists("/two"));
  }
}
