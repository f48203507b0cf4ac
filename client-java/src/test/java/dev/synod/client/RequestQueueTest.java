package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The SDK's ordering of one session's requests: chains, refusals, backoff, reconnects. */
class RequestQueueTest {
  static final int ATTEMPTS = 5;
  final RequestQueue q = new RequestQueue();
  long now = 1_000;

  RequestQueue.Entry write(String path) {
    return q.add(Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path)), null, new CompletableFuture<>());
  }

  RequestQueue.Entry read(String path) {
    return q.add(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path)), null, new CompletableFuture<>());
  }

  /** (request_no, after_request_no) of what a flush sends. */
  List<List<Long>> flush() {
    return q.flush(now, ATTEMPTS).toSend().stream().map(r -> List.of(r.getRequestNo(), r.getAfterRequestNo())).toList();
  }

  static Response ok(RequestQueue.Entry e) {
    return Response.newBuilder().setRequestNo(e.number()).build();
  }

  static Response refused(RequestQueue.Entry e, ErrorReason reason, long lastApplied) {
    return Response.newBuilder().setRequestNo(e.number()).setLastAppliedRequestNo(lastApplied)
        .setError(Error.newBuilder().setReason(reason)).build();
  }

  RequestQueue.Verdict answer(RequestQueue.Entry e, Response r) {
    assertSame(e, q.answered(r.getRequestNo()));
    return q.settle(e, r, now, 100, ATTEMPTS);
  }

  @Test
  void eachWriteNamesTheSessionsPreviousWriteAndReadsNameNone() {
    write("/a");
    read("/a");
    write("/b");
    write("/c");
    assertEquals(List.of(List.of(1L, 0L), List.of(2L, 0L), List.of(3L, 1L), List.of(4L, 3L)), flush());
    assertEquals(List.of(), flush(), "nothing twice on one stream");
  }

  @Test
  void aRefusedWriteWaitsForTheEarlierWriteInFlightThenGoesAgainWithTheReadsBehindIt() {
    RequestQueue.Entry w1 = write("/a");
    RequestQueue.Entry w2 = write("/b");
    RequestQueue.Entry r3 = read("/b");
    RequestQueue.Entry w4 = write("/c");
    flush();
    // 1 is on its way through a dying leader; 2 reached a new one first and was refused.
    assertEquals(RequestQueue.Verdict.AGAIN, answer(w2, refused(w2, ErrorReason.OUT_OF_ORDER, 0)));
    assertNull(q.answered(r3.number()), "the read answered without 2 is dropped");
    assertEquals(List.of(), flush(), "2 waits: 1 is still in flight");
    RequestQueue.Entry r5 = read("/c");
    assertEquals(List.of(), flush(), "and so does everything made after it");

    assertEquals(RequestQueue.Verdict.FINAL, answer(w1, ok(w1)));
    // 2 is now the lowest write: every earlier one is answered, so it may follow the last applied.
    assertEquals(List.of(List.of(2L, 0L), List.of(3L, 0L), List.of(5L, 0L)), flush());
    assertEquals(RequestQueue.Verdict.AGAIN, answer(w4, refused(w4, ErrorReason.OUT_OF_ORDER, 1)));
    assertEquals(List.of(), flush(), "4 waits for 2");
    assertEquals(RequestQueue.Verdict.FINAL, answer(w2, ok(w2)));
    // 4 is now the lowest write: it may follow the last one reported applied (2 is later still).
    assertEquals(List.of(List.of(4L, 1L), List.of(5L, 0L)), flush(), "the read behind it goes again too");
    assertNull(q.answered(r5.number()), "5's first answer (given before 4 applied) is dropped");
  }

  @Test
  void aRunOfRefusedWritesGoesAgainTogetherInOrder() {
    RequestQueue.Entry w1 = write("/a");
    RequestQueue.Entry w2 = write("/b");
    RequestQueue.Entry w3 = write("/c");
    flush();
    answer(w1, refused(w1, ErrorReason.OUT_OF_ORDER, 0));
    answer(w2, refused(w2, ErrorReason.OUT_OF_ORDER, 0));
    answer(w3, refused(w3, ErrorReason.OUT_OF_ORDER, 0));
    assertEquals(List.of(List.of(1L, 0L), List.of(2L, 1L), List.of(3L, 2L)), flush());
  }

  @Test
  void anOverloadedWriteKeepsItsNumberAndEverythingAfterItWaitsForItsBackoff() {
    RequestQueue.Entry w1 = write("/a");
    RequestQueue.Entry w2 = write("/b");
    flush();
    assertEquals(RequestQueue.Verdict.AGAIN, answer(w1, refused(w1, ErrorReason.OVERLOADED, 0)));
    write("/c");
    RequestQueue.Flush f = q.flush(now, ATTEMPTS);
    assertEquals(List.of(), f.toSend());
    assertEquals(now + 100, f.wakeAtNanos());
    assertEquals(RequestQueue.Verdict.AGAIN, answer(w2, refused(w2, ErrorReason.OUT_OF_ORDER, 0)));
    now += 100;
    assertEquals(List.of(List.of(1L, 0L), List.of(2L, 1L), List.of(3L, 2L)), flush());
  }

  @Test
  void refusalsAreRetriedAtMostTheAttemptsLimit() {
    RequestQueue.Entry w1 = write("/a");
    for (int i = 1; i < ATTEMPTS; i++) {
      flush();
      assertEquals(RequestQueue.Verdict.AGAIN, answer(w1, refused(w1, ErrorReason.OUT_OF_ORDER, 0)));
    }
    flush();
    assertEquals(RequestQueue.Verdict.FINAL, answer(w1, refused(w1, ErrorReason.OUT_OF_ORDER, 0)));
    assertTrue(q.isEmpty());
  }

  @Test
  void aNewStreamSendsEverythingAgainInOrderAndForgetsStaleAnswers() {
    RequestQueue.Entry w1 = write("/a");
    RequestQueue.Entry w2 = write("/b");
    RequestQueue.Entry r3 = read("/b");
    flush();
    answer(w1, refused(w1, ErrorReason.OUT_OF_ORDER, 7));
    q.newStream();
    assertEquals(List.of(List.of(1L, 7L), List.of(2L, 1L), List.of(3L, 0L)), flush());
    assertSame(r3, q.answered(r3.number()), "an answer on the new stream is the real one");
    assertSame(w2, q.answered(w2.number()));
  }

  @Test
  void aRequestSentTooOftenWithoutAnAnswerIsGivenUp() {
    RequestQueue.Entry r1 = read("/a");
    for (int i = 0; i < ATTEMPTS; i++) {
      assertEquals(1, flush().size());
      q.newStream();
    }
    RequestQueue.Flush f = q.flush(now, ATTEMPTS);
    assertEquals(List.of(r1), f.givenUp());
    assertTrue(q.isEmpty());
  }

  @Test
  void aNewSessionsFirstWriteFollowsNothing() {
    write("/a");
    q.drain();
    q.newSession();
    write("/b");
    assertEquals(List.of(List.of(2L, 0L)), flush());
  }

  @Test
  void aCancelledRequestIsNeverSentAgainAndItsLateAnswerIsDropped() {
    RequestQueue.Entry w1 = write("/a");
    RequestQueue.Entry r2 = read("/a");
    RequestQueue.Entry w3 = write("/b");
    flush();
    assertSame(w1, q.cancel(w1.number()));
    assertNull(q.cancel(w1.number()), "cancelled once");
    assertNull(q.answered(w1.number()), "an answer still on its way is dropped");
    q.newStream();
    assertEquals(List.of(List.of(2L, 0L), List.of(3L, 1L)), flush(), "the rest go again, the cancelled one not");
    // Its successor follows what the servers report applied once the cancelled one never applies.
    assertEquals(RequestQueue.Verdict.AGAIN, answer(w3, refused(w3, ErrorReason.OUT_OF_ORDER, 0)));
    assertEquals(RequestQueue.Verdict.FINAL, answer(r2, ok(r2)));
    assertEquals(List.of(List.of(3L, 0L)), flush());
  }
}
