package dev.synod.tools.bench;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SynodGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop load generator over the session stream: each client is one session that sends
 * its next request as soon as the previous one is answered. Runs one phase per client count
 * and reports each against the first (the baseline measured in the same invocation).
 *
 * <pre>
 *   java -cp tools/target/synod-tools.jar dev.synod.tools.bench.LoadGen \
 *       --target 127.0.0.1:7070[,host:port...] --clients 1,64 --duration-s 10 --value-bytes 100 \
 *       --workload write|read
 * </pre>
 */
public final class LoadGen {
  /** Phase settings. */
  record Options(List<String> targets, List<Integer> clients, int durationS, int warmupS,
      int valueBytes, String workload) {}

  /** One phase's outcome. */
  record Result(int clients, long ops, double seconds, Histogram latencyMicros, long errors) {
    double opsPerSecond() {
      return ops / seconds;
    }
  }

  private LoadGen() {}

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    List<ManagedChannel> channels = new ArrayList<>();
    for (String target : o.targets()) {
      channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(8 << 20).build());
    }
    try {
      prepare(channels.get(0), o);
      List<Result> results = new ArrayList<>();
      for (int clients : o.clients()) {
        results.add(runPhase(channels, o, clients));
      }
      report(o, results);
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  static Options parse(String[] args) {
    String target = "127.0.0.1:7070";
    List<Integer> clients = List.of(1, 64);
    int duration = 10;
    int warmup = 2;
    int value = 100;
    String workload = "write";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--target" -> target = args[i + 1];
        case "--clients" -> {
          clients = new ArrayList<>();
          for (String c : args[i + 1].split(",")) {
            clients.add(Integer.parseInt(c.trim()));
          }
        }
        case "--duration-s" -> duration = Integer.parseInt(args[i + 1]);
        case "--warmup-s" -> warmup = Integer.parseInt(args[i + 1]);
        case "--value-bytes" -> value = Integer.parseInt(args[i + 1]);
        case "--workload" -> workload = args[i + 1];
        default -> throw new IllegalArgumentException("unknown flag " + args[i]
            + " (flags: --target --clients --duration-s --warmup-s --value-bytes --workload write|read)");
      }
    }
    return new Options(List.of(target.split(",")), clients, duration, warmup, value, workload);
  }

  /** How long setup waits for the cluster to have a leader (a new cluster bootstraps first). */
  static final long SETUP_WAIT_MS = 60_000;

  /** Creates /bench and one key per client, once the cluster accepts writes. */
  static void prepare(ManagedChannel channel, Options o) throws InterruptedException {
    var stub = SynodGrpc.newBlockingStub(channel);
    long deadline = System.currentTimeMillis() + SETUP_WAIT_MS;
    while (true) {
      try {
        createIfAbsent(stub.withDeadlineAfter(10, TimeUnit.SECONDS), "/bench");
        break;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
            && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED
            || System.currentTimeMillis() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
    int max = o.clients().stream().mapToInt(Integer::intValue).max().orElse(1);
    for (int c = 0; c < max; c++) {
      createIfAbsent(stub, key(c));
    }
  }

  private static void createIfAbsent(SynodGrpc.SynodBlockingStub stub, String path) {
    try {
      stub.create(CreateRequest.newBuilder().setPath(path).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
        throw e;
      }
    }
  }

  static String key(int client) {
    return "/bench/k" + client;
  }

  /** One phase: {@code clients} sessions, spread over the targets round-robin. */
  static Result runPhase(List<ManagedChannel> channels, Options o, int clients) throws InterruptedException {
    Recorder recorder = new Recorder(3);
    AtomicBoolean measuring = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong ops = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    CountDownLatch finished = new CountDownLatch(clients);
    ByteString value = ByteString.copyFrom(new byte[o.valueBytes()]);
    for (int c = 0; c < clients; c++) {
      new Client(channels.get(c % channels.size()), key(c), value, o.workload(), recorder, measuring,
          stop, ops, errors, finished).start();
    }
    Thread.sleep(o.warmupS() * 1000L);
    recorder.reset();
    ops.set(0);
    errors.set(0);
    measuring.set(true);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(o.durationS());
    while (System.nanoTime() < end) {
      Thread.sleep(1000);
      System.err.printf(Locale.ROOT, "  clients=%d  %.0fs  ops=%d%n", clients,
          (System.nanoTime() - start) / 1e9, ops.get());
    }
    measuring.set(false);
    double seconds = (System.nanoTime() - start) / 1e9;
    long done = ops.get();
    Histogram h = recorder.getIntervalHistogram();
    stop.set(true);
    finished.await(30, TimeUnit.SECONDS);
    return new Result(clients, done, seconds, h, errors.get());
  }

  static void report(Options o, List<Result> results) {
    Result base = results.get(0);
    System.out.printf(Locale.ROOT, "workload=%s value=%dB duration=%ds targets=%s%n",
        o.workload(), o.valueBytes(), o.durationS(), String.join(",", o.targets()));
    System.out.printf(Locale.ROOT, "%8s %12s %10s %10s %10s %10s %8s%n",
        "clients", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "vs base", "errors");
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "%8d %12.0f %10.2f %10.2f %10.2f %9.1fx %8d%n",
          r.clients(), r.opsPerSecond(),
          r.latencyMicros().getValueAtPercentile(50) / 1000.0,
          r.latencyMicros().getValueAtPercentile(99) / 1000.0,
          r.latencyMicros().getValueAtPercentile(99.9) / 1000.0,
          r.opsPerSecond() / base.opsPerSecond(), r.errors());
    }
  }

  /** One closed-loop session: open, then one request in flight at a time until stopped. */
  private static final class Client implements StreamObserver<ServerMessage> {
    private final String key;
    private final ByteString value;
    private final boolean write;
    private final Recorder recorder;
    private final AtomicBoolean measuring;
    private final AtomicBoolean stop;
    private final AtomicLong ops;
    private final AtomicLong errors;
    private final CountDownLatch finished;
    private final StreamObserver<ClientMessage> out;
    private long requestNo;
    private long sentNanos;

    Client(ManagedChannel channel, String key, ByteString value, String workload, Recorder recorder,
        AtomicBoolean measuring, AtomicBoolean stop, AtomicLong ops, AtomicLong errors,
        CountDownLatch finished) {
      this.key = key;
      this.value = value;
      this.write = !workload.equals("read");
      this.recorder = recorder;
      this.measuring = measuring;
      this.stop = stop;
      this.ops = ops;
      this.errors = errors;
      this.finished = finished;
      this.out = SynodGrpc.newStub(channel).session(this);
    }

    void start() {
      out.onNext(ClientMessage.newBuilder().setOpen(OpenSessionRequest.newBuilder().setTimeoutMs(30_000)).build());
    }

    private void sendNext() {
      if (stop.get()) {
        out.onNext(ClientMessage.newBuilder().setClose(dev.synod.api.v1.CloseSessionRequest.getDefaultInstance()).build());
        return;
      }
      Request.Builder r = Request.newBuilder().setRequestNo(++requestNo);
      if (write) {
        r.setSetData(SetDataRequest.newBuilder().setPath(key).setData(value));
      } else {
        r.setGetData(GetDataRequest.newBuilder().setPath(key));
      }
      sentNanos = System.nanoTime();
      out.onNext(ClientMessage.newBuilder().setRequest(r).build());
    }

    @Override
    public void onNext(ServerMessage m) {
      if (m.hasOpened()) {
        sendNext();
      } else if (m.hasResponse()) {
        long micros = (System.nanoTime() - sentNanos) / 1000;
        if (measuring.get()) {
          if (m.getResponse().hasError()) {
            errors.incrementAndGet();
          } else {
            ops.incrementAndGet();
            recorder.recordValue(Math.max(1, micros));
          }
        }
        sendNext();
      }
    }

    @Override
    public void onError(Throwable t) {
      System.err.println("client " + key + " failed: " + t);
      finished.countDown();
    }

    @Override
    public void onCompleted() {
      out.onCompleted();
      finished.countDown();
    }
  }
}
