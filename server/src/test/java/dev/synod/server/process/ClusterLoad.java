package dev.synod.server.process;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.server.sim.Linearizability;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop writers against a process cluster: each creates unique nodes through any live
 * server, moving to another server on failure and retrying the same path (NODE_EXISTS on a retry
 * means an earlier attempt was applied). Records every acknowledged path and when.
 */
final class ClusterLoad implements AutoCloseable {
  final Map<String, Long> acked = new ConcurrentHashMap<>();
  /** Per acknowledged path: when it was first sent, and its zxid where the answer carried it. */
  private final Map<String, long[]> sent = new ConcurrentHashMap<>();
  final AtomicLong failures = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();

  ClusterLoad(ProcessCluster cluster, String prefix, int writers) {
    for (int w = 0; w < writers; w++) {
      final int writer = w;
      Thread t = new Thread(() -> run(cluster, prefix + "-w" + writer), "load-" + w);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  static ByteString valueOf(String path) {
    return ByteString.copyFromUtf8("value-of:" + path);
  }

  private void run(ProcessCluster cluster, String prefix) {
    int server = 1;
    for (int i = 0; !stop.get() && i < 1_000_000; i++) {
      String path = "/" + prefix + "-" + i;
      boolean retried = false;
      long invoked = System.nanoTime();
      for (int attempt = 0; attempt < 50 && !stop.get(); attempt++) {
        server = server % cluster.size + 1;
        if (!cluster.alive(server)) {
          continue;
        }
        try {
          var created = cluster.stub(server).create(
              CreateRequest.newBuilder().setPath(path).setData(valueOf(path)).build());
          sent.put(path, new long[] {invoked, created.getStat().getCzxid()});
          acked.put(path, System.nanoTime());
          break;
        } catch (StatusRuntimeException e) {
          if (retried && e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
            sent.put(path, new long[] {invoked, 0}); // an earlier attempt applied: zxid read later
            acked.put(path, System.nanoTime());
            break;
          }
          retried = true;
          failures.incrementAndGet();
          try {
            Thread.sleep(20); // the load writer's back-off before a retry, not a wait
          } catch (InterruptedException interrupted) {
            return;
          }
        }
      }
    }
  }

  /**
   * The acknowledged writes as a history for {@link Linearizability}; zxids the answers did not
   * carry (a retry that found its node) are read from server {@code i}, which must be in sync.
   */
  List<Linearizability.Op> history(ProcessCluster cluster, int i) {
    List<Linearizability.Op> ops = new ArrayList<>();
    acked.forEach((path, ackNanos) -> {
      long[] s = sent.get(path);
      long zxid = s[1] != 0 ? s[1] : cluster.stub(i).getData(
          GetDataRequest.newBuilder().setPath(path).build()).getStat().getCzxid();
      ops.add(new Linearizability.Op(path, s[0], ackNanos, zxid, true));
    });
    return ops;
  }

  long ackedSince(long nanos) {
    return acked.values().stream().filter(t -> t > nanos).count();
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    for (Thread t : threads) {
      t.join(15_000);
    }
  }

  /**
   * The longest time in [fromNanos, toNanos] with no write acknowledged to any writer (the edges
   * of the window count as acknowledgements): how long the cluster was unavailable to writes.
   */
  long longestGapNanos(long fromNanos, long toNanos) {
    long[] times = acked.values().stream().mapToLong(Long::longValue)
        .filter(t -> t >= fromNanos && t <= toNanos).sorted().toArray();
    long previous = fromNanos;
    long longest = 0;
    for (long t : times) {
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    return Math.max(longest, toNanos - previous);
  }
}
