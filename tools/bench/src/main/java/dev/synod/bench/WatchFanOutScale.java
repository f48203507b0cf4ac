package dev.synod.bench;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.WatchEvent;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The watch fan-out scale point of issue 13, in process: {@code sessions} sessions each leave a
 * one-shot data watch on each of {@code nodes} nodes, then one multi sets every node, firing
 * sessions x nodes watches. Reports how long that multi's apply took (its acknowledgement is
 * handed over inside apply), how long a second write applied right behind it took while the
 * fan-out ran, and when the last event was handed to the (counting) dispatcher. The fan-out runs
 * on a thread of its own, as in a server.
 *
 * <p>{@code java -Xmx4g -cp tools/bench/target/synod-bench.jar dev.synod.bench.WatchFanOutScale
 * --sessions 1000 --nodes 1000}
 */
public final class WatchFanOutScale {
  private WatchFanOutScale() {}

  public static void main(String[] args) throws Exception {
    int sessions = 1000;
    int nodes = 1000;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--sessions" -> sessions = Integer.parseInt(args[i + 1]);
        case "--nodes" -> nodes = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException(
            "unknown flag " + args[i] + " (flags: --sessions N --nodes N)");
      }
    }
    AtomicLong delivered = new AtomicLong();
    AtomicLong lastEventNs = new AtomicLong();
    WatchDispatcher counting = new WatchDispatcher() {
      @Override
      public void dispatch(long watcherId, WatchEvent event) {
        delivered.incrementAndGet();
        lastEventNs.set(System.nanoTime());
      }

      @Override
      public void sessionEnded(long sessionId, boolean expired, long zxid) {}
    };
    ExecutorService fanOut = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fanout");
      t.setDaemon(true);
      return t;
    });
    StateMachine sm = new StateMachine(StateLimits.defaults(), counting, fanOut);
    Applier apply = new Applier(sm);
    long writer = sessions + 1L;
    long other = sessions + 2L;
    for (long s = 1; s <= other; s++) {
      apply.txn(Txn.newBuilder().setSessionId(s).setCreateSession(
          CreateSessionTxn.newBuilder().setSecret(s).setTimeoutMs(60_000)));
    }
    List<Op> sets = new ArrayList<>(nodes);
    for (int n = 0; n < nodes; n++) {
      apply.txn(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/n" + n)));
      sets.add(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/n" + n)
          .setData(ByteString.copyFromUtf8("v"))).build());
    }
    apply.txn(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/other")));
    // The same multi with no watch on its nodes, a few times (the last one warm): what applying
    // it costs anyway.
    long baselineNs = 0;
    for (int round = 0; round < 5; round++) {
      long baselineStart = System.nanoTime();
      apply.txn(Txn.newBuilder().setSessionId(writer).setRequestNo(round + 1L)
          .setMulti(MultiRequest.newBuilder().addAllOps(sets)));
      baselineNs = System.nanoTime() - baselineStart;
    }
    long registerStart = System.nanoTime();
    for (long s = 1; s <= sessions; s++) {
      for (int n = 0; n < nodes; n++) {
        sm.read(s, Request.newBuilder().setRequestNo(1).setGetData(
            GetDataRequest.newBuilder().setPath("/n" + n).setWatch(true)).build(), r -> {});
      }
    }
    long watches = sm.stats().watchCount();
    System.out.printf(Locale.ROOT, "fan-out: %d sessions x %d nodes = %d one-shot watches,"
        + " registered in %.2f s%n", sessions, nodes, watches, seconds(registerStart));

    long start = System.nanoTime();
    apply.txn(Txn.newBuilder().setSessionId(writer).setRequestNo(6)
        .setMulti(MultiRequest.newBuilder().addAllOps(sets)));
    long multiAckNs = System.nanoTime() - start;
    long otherStart = System.nanoTime();
    apply.txn(Txn.newBuilder().setSessionId(other).setRequestNo(1)
        .setSetData(SetDataRequest.newBuilder().setPath("/other")));
    long otherAckNs = System.nanoTime() - otherStart;
    long deliveredAtOtherAck = delivered.get();
    while (delivered.get() < watches) {
      Thread.onSpinWait();
    }
    System.out.printf(Locale.ROOT, "multi firing them acknowledged after %.2f ms (the same multi"
        + " firing none: %.2f ms); a write right behind it after %.2f ms (%d of %d events handed"
        + " out by then); last event at %.2f s%n", multiAckNs / 1e6, baselineNs / 1e6,
        otherAckNs / 1e6, deliveredAtOtherAck, watches, (lastEventNs.get() - start) / 1e9);
    fanOut.shutdown();
  }

  private static double seconds(long startNs) {
    return (System.nanoTime() - startNs) / 1e9;
  }

  /** Applies Txns stamped with the next zxid, as a replica does; a failed one is a bug here. */
  private static final class Applier {
    private final StateMachine sm;

    Applier(StateMachine sm) {
      this.sm = sm;
    }

    void txn(Txn.Builder txn) {
      Response[] out = new Response[1];
      sm.apply(txn.setZxid(sm.lastZxid() + 1).setTimeMs(1).build(), r -> out[0] = r);
      if (out[0].hasError()) {
        throw new IllegalStateException("txn failed: " + out[0].getError());
      }
    }
  }
}
