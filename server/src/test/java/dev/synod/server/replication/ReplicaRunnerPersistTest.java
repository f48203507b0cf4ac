package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Response;
import dev.synod.server.observe.ServerMetrics;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the runner makes a Ready durable: on the loop's own thread when nothing waits for the
 * loop (a lone write then costs no hand-off to the persist stage and back), on the persist stage
 * when events wait (the loop handles them, and gathers the next batch, during the fsync).
 */
class ReplicaRunnerPersistTest {
  @TempDir Path dir;

  private ReplicaRunner runner(DurableStore store) {
    ClusterConfig cluster = ClusterConfig.parse("", 1, "127.0.0.1", 0);
    PeerTransport transport = new PeerTransport(cluster, address -> {
      throw new AssertionError("a cluster of one dials no peer");
    });
    return new ReplicaRunner(transport, store, Clock.SYSTEM, (what, cause) -> {
      throw new AssertionError(what, cause);
    }, 10, ServerMetrics.NONE);
  }

  @Test
  void aWriteWithNothingQueuedRunsInlineAndOneWithEventsWaitingOnTheStage() throws Exception {
    try (DurableStore store = DurableStore.open(dir, 1 << 20, FaultInjector.NONE)) {
      ReplicaRunner runner = runner(store);
      try {
        AtomicReference<Thread> wroteOn = new AtomicReference<>();
        assertTrue(runner.persist(1, () -> wroteOn.set(Thread.currentThread())), "nothing queued: inline");
        assertSame(Thread.currentThread(), wroteOn.get(), "written before persist returned, on the caller");

        // A client write waits for the loop (not started: the inbox keeps it).
        CompletableFuture<Response> answer = new CompletableFuture<>();
        assertTrue(runner.post(new ReplicaEvent.ClientWrite(Txn.newBuilder().setRequestNo(1),
            (txn, response) -> answer.complete(response), Long.MAX_VALUE)));
        CountDownLatch written = new CountDownLatch(1);
        assertFalse(runner.persist(2, () -> {
          wroteOn.set(Thread.currentThread());
          written.countDown();
        }), "an event waits: the persist stage writes");
        assertTrue(written.await(10, TimeUnit.SECONDS));
        assertEquals("synod-persist", wroteOn.get().getName());
      } finally {
        runner.close();
      }
    }
  }

  @Test
  void anInlineWriteThatFailsThrowsToTheLoop() throws Exception {
    try (DurableStore store = DurableStore.open(dir, 1 << 20, FaultInjector.NONE)) {
      ReplicaRunner runner = runner(store);
      try {
        IOException thrown = assertThrows(IOException.class,
            () -> runner.persist(1, () -> {
              throw new IOException("fsync failed");
            }));
        assertEquals("fsync failed", thrown.getMessage());
      } finally {
        runner.close();
      }
    }
  }
}
