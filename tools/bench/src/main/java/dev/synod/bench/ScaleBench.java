package dev.synod.bench;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.storage.Snapshot;
import dev.synod.server.storage.SnapshotStore;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The memory and restart scale points of one server's state, in process: loads parents x
 * children nodes of valueBytes each into a {@link StateMachine} through Txns (each serialized and
 * parsed back, as a replica reads them from its log, with the world:anyone ACL a server fills in),
 * reports heap per node after a full GC, writes a snapshot through {@link SnapshotStore}, then
 * loads it back into a new state machine (a restart: read, verify, restore, first read) and
 * reports the time and the heap per node again.
 *
 * <p>Run with a fixed heap, e.g. {@code java -Xmx4g -XX:+UseG1GC -cp ... dev.synod.bench.ScaleBench
 * --parents 1000 --children 1000 --value-bytes 100 --dir /tmp/synod-scale --keep}, then {@code
 * ... ScaleBench --dir /tmp/synod-scale --restart-only} for the restart in a JVM of its own, cold,
 * as a restarted server does it (the in-process restart after the load runs warm). Heap figures
 * come from the memory bean after {@code System.gc()} (a full collection with G1's defaults): the
 * fresh one against the heap used before the state existed, the one after a restart against the
 * heap left when the restored state is dropped. CPU is the whole process's (collector included).
 */
public final class ScaleBench {
  private ScaleBench() {}

  public static void main(String[] args) throws Exception {
    int parents = 1000;
    int children = 1000;
    int valueBytes = 100;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "synod-scale");
    boolean keep = false;
    boolean restartOnly = false;
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--keep") || args[i].equals("--restart-only")) {
        keep |= args[i].equals("--keep");
        restartOnly |= args[i].equals("--restart-only");
        i--;
        continue;
      }
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (value == null) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--parents" -> parents = Integer.parseInt(value);
        case "--children" -> children = Integer.parseInt(value);
        case "--value-bytes" -> valueBytes = Integer.parseInt(value);
        case "--dir" -> dir = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag " + args[i]
            + " (flags: --parents N --children N --value-bytes N --dir PATH --keep"
            + " --restart-only)");
      }
    }
    if (restartOnly) {
      restart(dir, parents, children, valueBytes);
      return;
    }
    deleteRecursively(dir);
    long nodes = (long) parents * children + parents;
    System.out.printf(Locale.ROOT, "scale: %d parents x %d children of %d B = %d nodes, max heap %d MiB%n",
        parents, children, valueBytes, nodes, Runtime.getRuntime().maxMemory() >> 20);

    long baseline = heapAfterGc();
    StateMachine sm = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    long loadStart = System.nanoTime();
    load(sm, parents, children, valueBytes);
    double loadS = seconds(loadStart);
    long fresh = heapAfterGc() - baseline;
    System.out.printf(Locale.ROOT, "load: %.2f s (%.0f nodes/s in apply)%n", loadS, nodes / loadS);
    System.out.printf(Locale.ROOT, "heap fresh: %d MiB, %.0f B/node (value %d B)%n",
        fresh >> 20, (double) fresh / nodes, valueBytes);

    for (int round = 0; round < 2; round++) { // the first round warms the read path up
      long readStart = System.nanoTime();
      int reads = readRandomly(sm, parents, children, 1_000_000);
      double readS = seconds(readStart);
      System.out.printf(Locale.ROOT, "get_data, one thread, round %d: %.0f reads/s%n",
          round + 1, reads / readS);
    }

    long snapStart = System.nanoTime();
    Snapshot snapshot = sm.snapshot().withSlot(sm.lastZxid());
    double takeS = seconds(snapStart);
    SnapshotStore store = new SnapshotStore(dir, FaultInjector.NONE);
    long writeStart = System.nanoTime();
    store.write(snapshot);
    double writeS = seconds(writeStart);
    long fileBytes = Files.size(store.fileOf(snapshot.slot()));
    System.out.printf(Locale.ROOT, "snapshot: taken in %.3f s, written (and fsynced) in %.2f s, %d MiB%n",
        takeS, writeS, fileBytes >> 20);
    snapshot = null;
    Reference.reachabilityFence(sm);
    sm = null;
    store = null;

    restart(dir, parents, children, valueBytes);
    if (!keep) {
      deleteRecursively(dir);
    }
  }

  /**
   * A restart from the snapshot in {@code dir}: read and verify it, restore it, serve the first
   * read. With --restart-only it runs in a JVM of its own, cold, as a restarted server would.
   */
  private static void restart(Path dir, int parents, int children, int valueBytes)
      throws IOException {
    long cpuStart = processCpuNs();
    long restartStart = System.nanoTime();
    SnapshotStore reopened = new SnapshotStore(dir, FaultInjector.NONE);
    Snapshot loaded = reopened.loadLatest().orElseThrow();
    double readS = seconds(restartStart);
    StateMachine restarted = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    restarted.restore(loaded);
    loaded = null;
    Response first = firstRead(restarted, "/p" + pad(parents - 1) + "/c" + pad(children - 1));
    double restartS = seconds(restartStart);
    double cpuS = (processCpuNs() - cpuStart) / 1e9;
    if (first.hasError() || first.getGetData().getData().size() != valueBytes) {
      throw new IllegalStateException("first read after restart failed: " + first);
    }
    long nodes = restarted.stats().nodeCount();
    // Measured after, by dropping the state: a collection before would shrink the heap, and the
    // restore would then pay for growing it again, as no restarted server does.
    long withState = heapAfterGc();
    Reference.reachabilityFence(restarted);
    restarted = null;
    long after = withState - heapAfterGc();
    System.out.printf(Locale.ROOT, "restart to first read: %.2f s, %.2f s of CPU (snapshot read and"
        + " verified in %.2f s)%n", restartS, cpuS, readS);
    System.out.printf(Locale.ROOT, "heap after restart: %d MiB, %.0f B/node%n",
        after >> 20, (double) after / nodes);
  }

  /** CPU time of this whole process (all threads, the collector's too), in ns. */
  private static long processCpuNs() {
    return ((com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static void load(StateMachine sm, int parents, int children, int valueBytes)
      throws IOException {
    byte[] value = new byte[valueBytes];
    java.util.Arrays.fill(value, (byte) 'v');
    ByteString data = ByteString.copyFrom(value);
    Acl worldAnyone = Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31).build();
    long zxid = sm.lastZxid();
    long timeMs = 1_700_000_000_000L;
    AtomicReference<Response> last = new AtomicReference<>();
    for (int p = 0; p < parents; p++) {
      String parent = "/p" + pad(p);
      zxid = applyCreate(sm, zxid, timeMs, parent, ByteString.EMPTY, worldAnyone, last);
      for (int c = 0; c < children; c++) {
        zxid = applyCreate(sm, zxid, timeMs, parent + "/c" + pad(c), data, worldAnyone, last);
      }
    }
  }

  private static long applyCreate(StateMachine sm, long lastZxid, long timeMs, String path,
      ByteString data, Acl acl, AtomicReference<Response> out) throws IOException {
    long zxid = lastZxid + 1;
    byte[] logged = Txn.newBuilder().setZxid(zxid).setTimeMs(timeMs)
        .setCreate(CreateRequest.newBuilder().setPath(path).setData(data).addAcl(acl))
        .build().toByteArray();
    // Parsed back from bytes, as a replica reads it from its log: every Txn has its own copies.
    sm.apply(Txn.parseFrom(logged), out::set);
    if (out.get().hasError()) {
      throw new IllegalStateException("create " + path + " failed: " + out.get().getError());
    }
    return zxid;
  }

  /** {@code count} get_data calls of random existing nodes, each checked; returns the count. */
  private static int readRandomly(StateMachine sm, int parents, int children, int count) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    String[] parentNames = new String[parents];
    String[] childNames = new String[children];
    for (int i = 0; i < parents; i++) {
      parentNames[i] = "/p" + pad(i);
    }
    for (int i = 0; i < children; i++) {
      childNames[i] = "/c" + pad(i);
    }
    for (int i = 0; i < count; i++) {
      String path = parentNames[random.nextInt(parents)] + childNames[random.nextInt(children)];
      if (firstRead(sm, path).hasError()) {
        throw new IllegalStateException("get_data " + path + " failed");
      }
    }
    return count;
  }

  private static Response firstRead(StateMachine sm, String path) {
    AtomicReference<Response> out = new AtomicReference<>();
    sm.read(0, Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path)).build(),
        out::set);
    return out.get();
  }

  private static String pad(int i) {
    return String.format(Locale.ROOT, "%04d", i);
  }

  private static double seconds(long startNs) {
    return (System.nanoTime() - startNs) / 1e9;
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
