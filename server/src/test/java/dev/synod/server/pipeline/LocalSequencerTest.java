package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.txn.v1.LogEntry;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single-node write pipeline against real storage. */
class LocalSequencerTest {
  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final List<String> fatal = Collections.synchronizedList(new ArrayList<>());
  DurableStore store;
  StateMachine state;
  Snapshotter snapshotter;
  LocalSequencer sequencer;

  @BeforeEach
  void start() throws Exception {
    store = DurableStore.open(dir, 1 << 20, FaultInjector.NONE);
    state = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    snapshotter = new Snapshotter(state, store, 1_000_000, (w, c) -> fatal.add(w));
    sequencer = new LocalSequencer(store, state, snapshotter, clock, (w, c) -> fatal.add(w), 10_000, 2_000, 4 << 20);
    sequencer.start();
  }

  @AfterEach
  void stop() throws Exception {
    sequencer.close();
    snapshotter.close();
    store.close();
    assertTrue(fatal.isEmpty(), fatal.toString());
  }

  static Txn.Builder create(String path) {
    return Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path));
  }

  @Test
  void concurrentWritersShareFsyncsAndEveryWriteIsAppliedOnceInZxidOrder() throws Exception {
    int writers = 64;
    int each = 50;
    CountDownLatch done = new CountDownLatch(writers * each);
    List<Long> zxids = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      final int writer = w;
      Thread t = new Thread(() -> {
        for (int i = 0; i < each; i++) {
          CountDownLatch one = new CountDownLatch(1);
          try {
            sequencer.submit(create("/w" + writer + "-" + i), (txn, response) -> {
              assertFalse(response.hasError(), response.toString());
              zxids.add(txn.getZxid());
              one.countDown();
              done.countDown();
            });
            one.await(); // closed loop, like a client waiting for its answer
          } catch (SynodException | InterruptedException e) {
            throw new AssertionError(e);
          }
        }
      });
      threads.add(t);
      t.start();
    }
    assertTrue(done.await(60, TimeUnit.SECONDS));
    assertEquals(writers * each, zxids.size());
    for (int i = 1; i < zxids.size(); i++) {
      assertEquals(zxids.get(i - 1) + 1, zxids.get(i), "applied in zxid order, no gaps");
    }
    long batches = sequencer.metrics().batches;
    assertTrue(batches < writers * each / 4,
        "group commit: " + (writers * each) + " writes took " + batches + " fsyncs");
    sequencer.close(); // the commit thread is done: the log may be read from here
    List<LogEntry> logged = new ArrayList<>();
    store.replayLog(logged::add);
    assertEquals(batches, logged.size(), "one log record per batch");
    Txn lastLogged = null;
    for (LogEntry entry : logged) {
      List<Txn> txns = TxnBatch.parseFrom(entry.getAccepted().getValue()).getTxnsList();
      lastLogged = txns.get(txns.size() - 1);
    }
    assertEquals(state.lastZxid(), lastLogged.getZxid());
  }

  @Test
  void aBarrierRunsAfterEverythingSubmittedBeforeIt() throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(1);
    for (int i = 0; i < 100; i++) {
      final int n = i;
      sequencer.submit(create("/b" + i), (txn, response) -> order.add("w" + n));
    }
    sequencer.barrier(zxid -> {
      order.add("barrier@" + zxid);
      done.countDown();
    });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals(101, order.size());
    assertEquals("barrier@100", order.get(100));
  }

  @Test
  void stampedTimeNeverGoesBackwardsAndSessionsGetTheirZxidAsId() throws Exception {
    List<Txn> applied = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(3);
    sequencer.submit(create("/t1"), (txn, r) -> { applied.add(txn); done.countDown(); });
    sequencer.barrier(z -> clock.setWallMs(5)); // the wall clock jumps back
    sequencer.submit(Txn.newBuilder().setCreateSession(
        dev.synod.txn.v1.CreateSessionTxn.newBuilder().setTimeoutMs(5_000)), (txn, r) -> {
          applied.add(txn);
          done.countDown();
        });
    sequencer.submit(create("/t2"), (txn, r) -> { applied.add(txn); done.countDown(); });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertTrue(applied.get(2).getTimeMs() >= applied.get(0).getTimeMs());
    Txn session = applied.get(1);
    assertEquals(session.getZxid(), session.getSessionId());
    assertTrue(state.session(session.getSessionId()).isPresent());
  }

  @Test
  void afterCloseWritesAreRefusedAsShuttingDown() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    Response[] result = new Response[1];
    sequencer.submit(create("/last"), (txn, r) -> { result[0] = r; done.countDown(); });
    sequencer.close();
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertFalse(result[0].hasError(), "queued before close: still applied");
    SynodException e = assertThrows(SynodException.class, () -> sequencer.submit(create("/late"), (t, r) -> {}));
    assertEquals(ErrorReason.SHUTTING_DOWN, e.reason());
  }
}
