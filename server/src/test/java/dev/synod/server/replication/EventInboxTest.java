package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventInboxTest {

  /** A client write whose answer (handled by the loop, or refused) the test can see. */
  private static final class Write {
    final CompletableFuture<Response> answer = new CompletableFuture<>();
    final ReplicaEvent.ClientWrite event = new ReplicaEvent.ClientWrite(
        Txn.newBuilder().setRequestNo(7), (txn, response) -> answer.complete(response), Long.MAX_VALUE);
  }

  /** A queue whose add waits at a gate: the poster is past its "open?" check, not yet queued. */
  private static final class GatedQueue extends LinkedBlockingQueue<ReplicaEvent> {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public boolean add(ReplicaEvent e) {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      return super.add(e);
    }
  }

  @Test
  void aPostThatRacesTheCloseIsRefusedNotLost() throws Exception {
    GatedQueue queue = new GatedQueue();
    EventInbox inbox = new EventInbox(100, queue);
    Write write = new Write();
    CompletableFuture<Boolean> posted = CompletableFuture.supplyAsync(() -> inbox.post(write.event));
    assertTrue(queue.entered.await(10, TimeUnit.SECONDS));
    inbox.close(); // the loop ends and drains the queue: the write is not in it yet
    queue.release.countDown();
    assertFalse(posted.get(10, TimeUnit.SECONDS), "the write was taken back, not left queued");
    Response answer = write.answer.get(10, TimeUnit.SECONDS);
    assertEquals(ErrorReason.SHUTTING_DOWN, answer.getError().getReason());
    assertEquals(0, inbox.queued());
    assertTrue(queue.isEmpty());
  }

  @Test
  void everyPostRacingACloseIsAnsweredExactlyOnceOrHandled() throws Exception {
    for (int round = 0; round < 50; round++) {
      EventInbox inbox = new EventInbox(1_000_000);
      List<Write> writes = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        writes.add(new Write());
      }
      List<ReplicaEvent> handled = new ArrayList<>();
      CountDownLatch go = new CountDownLatch(1);
      Thread poster = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (Write w : writes) {
          inbox.post(w.event);
        }
      });
      poster.start();
      go.countDown();
      inbox.take(handled, 0, 50); // the loop's last round
      inbox.close();
      poster.join(10_000);
      for (Write w : writes) {
        if (handled.contains(w.event)) {
          assertFalse(w.answer.isDone(), "a handled write is answered by the loop, not refused");
        } else {
          assertTrue(w.answer.isDone(), "a write that was not handled was refused");
          assertEquals(ErrorReason.SHUTTING_DOWN, w.answer.get().getError().getReason());
        }
      }
      assertEquals(0, inbox.queued());
    }
  }

  @Test
  void admittedEventsBeyondTheLimitAreRefusedAsOverloadedAndCompletionsAreNot() throws Exception {
    EventInbox inbox = new EventInbox(2);
    Write a = new Write();
    Write b = new Write();
    Write c = new Write();
    assertTrue(inbox.post(a.event));
    assertTrue(inbox.post(b.event));
    assertFalse(inbox.post(c.event));
    assertEquals(ErrorReason.OVERLOADED, c.answer.get(1, TimeUnit.SECONDS).getError().getReason());
    assertTrue(inbox.post(new ReplicaEvent.SnapshotFetchFailed("a completion")), "completions are not counted");
    assertEquals(2, inbox.queued());
    List<ReplicaEvent> group = new ArrayList<>();
    assertEquals(3, inbox.take(group, 0, 10));
    assertEquals(0, inbox.queued());
    assertFalse(a.answer.isDone());
    inbox.close();
    Write late = new Write();
    assertFalse(inbox.post(late.event));
    assertEquals(ErrorReason.SHUTTING_DOWN, late.answer.get(1, TimeUnit.SECONDS).getError().getReason());
  }
}
