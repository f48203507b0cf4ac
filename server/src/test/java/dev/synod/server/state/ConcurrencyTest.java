package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchKind;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Readers racing a writer never see a half-applied Txn, and never miss a watched change. */
class ConcurrencyTest {
  private static final int WRITES = 3000;
  private static final int READERS = 3;

  @Test
  void readersNeverSeeATornState() throws Exception {
    Harness h = new Harness();
    h.create("/p");
    h.create("/q");
    h.create("/p/token");
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong reads = new AtomicLong();
    CountDownLatch started = new CountDownLatch(READERS);
    List<Thread> readers = new ArrayList<>();
    for (int i = 0; i < READERS; i++) {
      Thread reader = new Thread(() -> {
        started.countDown();
        try {
          readUntilDone(h, done, reads, problems);
        } catch (Throwable t) {
          problems.add("reader died: " + t);
        }
      });
      reader.start();
      readers.add(reader);
    }
    assertTrue(started.await(10, TimeUnit.SECONDS));

    for (int i = 0; i < WRITES; i++) {
      String from = i % 2 == 0 ? "/p/token" : "/q/token";
      String to = i % 2 == 0 ? "/q/token" : "/p/token";
      Txn.Builder txn = Txn.newBuilder().setZxid(h.sm.lastZxid() + 1).setMulti(
          MultiRequest.newBuilder()
              .addOps(Op.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(from)))
              .addOps(Harness.opCreate(to)));
      h.sm.apply(txn.build(), r -> {});
      String extra = "/p/extra" + i;
      h.create(extra);
      h.apply(t -> t.setDelete(DeleteRequest.newBuilder().setPath(extra)));
    }
    done.set(true);
    for (Thread reader : readers) {
      reader.join(10_000);
    }
    assertEquals(List.of(), problems.stream().limit(5).toList());
    assertTrue(reads.get() > 10, "readers ran: " + reads.get());
  }

  private static void readUntilDone(Harness h, AtomicBoolean done, AtomicLong reads,
      ConcurrentLinkedQueue<String> problems) {
    long lastZxid = 0;
    while (!done.get()) {
      Request request = Request.newBuilder().setRequestNo(1).setGetChildren(
          GetChildrenRequest.newBuilder().setPath("/p")).build();
      Response[] out = new Response[2];
      h.sm.read(0, request, r -> out[0] = r);
      h.sm.read(0, request.toBuilder().setGetChildren(
          GetChildrenRequest.newBuilder().setPath("/q")).build(), r -> out[1] = r);
      var p = out[0].getGetChildren();
      var q = out[1].getGetChildren();
      if (p.getStat().getNumChildren() != p.getChildrenCount()) {
        problems.add("num_children " + p.getStat().getNumChildren() + " but "
            + p.getChildrenCount() + " children at zxid " + out[0].getZxid());
      }
      long tokens = p.getChildrenList().stream().filter("token"::equals).count()
          + q.getChildrenList().stream().filter("token"::equals).count();
      if (out[1].getZxid() == out[0].getZxid() && tokens != 1) {
        // Every multi moves the one token between /p and /q: exactly one holds it.
        problems.add("token count " + tokens + " at zxid " + out[0].getZxid());
      }
      if (out[0].getZxid() < lastZxid) {
        problems.add("zxid went back from " + lastZxid + " to " + out[0].getZxid());
      }
      lastZxid = out[1].getZxid();
      reads.incrementAndGet();
    }
  }

  @Test
  void aWatchRegisteredByAConcurrentReadNeverMissesTheChange() throws Exception {
    // A reader reads /n's version with a data watch. Whatever the interleaving, either the read
    // already shows the change or the watch fires for it: never neither.
    for (int round = 0; round < 200; round++) {
      Harness h = new Harness();
      h.openSession(1);
      h.create("/n");
      Response[] read = new Response[1];
      Thread reader = new Thread(() -> h.sm.read(1, Request.newBuilder().setRequestNo(1)
          .setGetData(GetDataRequest.newBuilder().setPath("/n").setWatch(true))
          .build(), r -> read[0] = r));
      reader.start();
      h.setData("/n", "changed");
      reader.join(10_000);
      boolean sawChange = read[0].getGetData().getStat().getVersion() == 1;
      boolean watchFired = h.recorder.events.stream().anyMatch(d -> d.watcherId() == 1);
      assertTrue(sawChange || watchFired, "round " + round + ": missed the change");
      assertTrue(!(sawChange && watchFired), "round " + round + ": fired for an older change");
    }
  }

  @Test
  void concurrentRegistrationsKeepCountsExact() throws Exception {
    Harness h = new Harness();
    h.create("/w");
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long watcher = -1 - t;
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 500; i++) {
          h.addWatch(watcher, "/w/" + i, WatchKind.WATCH_PERSISTENT);
          h.addWatch(watcher, "/w/" + i, WatchKind.WATCH_PERSISTENT_RECURSIVE);
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join(10_000);
    }
    assertEquals(4 * 500 * 2, h.sm.stats().watchCount());
    for (int t = 0; t < 4; t++) {
      h.sm.removeWatcher(-1 - t);
    }
    assertEquals(0, h.sm.stats().watchCount());
  }
}
