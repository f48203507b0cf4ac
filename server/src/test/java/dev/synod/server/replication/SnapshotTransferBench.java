package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Stat;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.server.NettyTransports;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.storage.Snapshot;
import dev.synod.server.storage.SnapshotNodes;
import dev.synod.server.tls.TlsSetup;
import dev.synod.txn.v1.NodeRecord;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SortedMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Catch-up throughput of a snapshot over loopback TCP (Netty, plaintext, as the peer port without
 * TLS), from one data directory to another on the same disk: the follower's copy (pieces checked,
 * written, synced every 32 MiB, whole CRC32C) and then its install (verified and loaded as a
 * restart loads it). Not a test: run it on purpose, e.g.
 *
 * <pre>
 * flock /tmp/synod-build.lock mvn -B -q -pl server -am test -Dtest=SnapshotTransferBench \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dsynod.bench=true -Dsynod.bench.nodes=4000000
 * </pre>
 */
@EnabledIfSystemProperty(named = "synod.bench", matches = "true")
class SnapshotTransferBench {
  @TempDir Path dir;

  @Test
  void catchUpThroughputOnLoopback() throws Exception {
    long nodes = Long.getLong("synod.bench.nodes", 4_000_000);
    DurableStore leader = DurableStore.open(dir.resolve("leader"), 64 << 20, FaultInjector.NONE);
    DurableStore follower = DurableStore.open(dir.resolve("follower"), 64 << 20, FaultInjector.NONE);
    ExecutorService transfers = Executors.newFixedThreadPool(PeerService.TRANSFER_THREADS);
    ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
    long t0 = System.nanoTime();
    Generated tree = new Generated(nodes);
    leader.writeSnapshot(new Snapshot(nodes, 1_000, 1_700_000_000_000L, tree, List.of()));
    long writeNanos = System.nanoTime() - t0;
    SnapshotSource source = new SnapshotSource(leader.disk(), new SnapshotSource.Files() {
      @Override
      public boolean setAsideIfDamaged(long slot) {
        return false;
      }

      @Override
      public SortedMap<Long, Path> list() throws IOException {
        return leader.snapshotFiles();
      }

      @Override
      public void writeCovering(long minSlot) {
        throw new IllegalStateException("not in this bench");
      }
    });
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor()
        .addService(new PeerGrpc.PeerImplBase() {
          @Override
          public void readSnapshot(SnapshotReadRequest request, StreamObserver<SnapshotPiece> out) {
            SnapshotSender.serve(source, 7, request, (ServerCallStreamObserver<SnapshotPiece>) out, transfers);
          }
        }).build().start();
    // The follower's channel is a peer link as the server makes it.
    ManagedChannel channel = NettyTransports.peerLinks(TlsSetup.plaintext()).open("127.0.0.1:" + server.getPort());
    try {
      SnapshotDownload download = new SnapshotDownload(follower.disk(), follower::incomingSnapshotFile, 0);
      SnapshotDownload.Leader grpc = SnapshotTransfer.overGrpc(PeerGrpc.newBlockingStub(channel), Clock.SYSTEM,
          SnapshotTransfer.IDLE_TIMEOUT_MS, watchdog);
      // The leader sums its file once per file; a warm-up call pays that, as the first follower would.
      long t1 = System.nanoTime();
      source.identityOf(1_000, leader.snapshotFiles().get(1_000L));
      long sumNanos = System.nanoTime() - t1;
      // A first copy warms the JIT up (a server that has run a while is warm); then the measured one.
      long t2 = System.nanoTime();
      download.fetch(grpc, 1_000, 7);
      long coldNanos = System.nanoTime() - t2;
      java.nio.file.Files.delete(follower.incomingSnapshotFile(1_000));
      t2 = System.nanoTime();
      SnapshotDownload.Done done = download.fetch(grpc, 1_000, 7);
      long copyNanos = System.nanoTime() - t2;
      long t3 = System.nanoTime();
      Snapshot installed = follower.installReceivedSnapshot(1_000, 0).orElseThrow();
      long installNanos = System.nanoTime() - t3;
      assertEquals(tree.count(), installed.nodeCount());
      long bytes = done.identity().getSizeBytes();
      System.out.printf("snapshot of %,d nodes, %,d bytes (written by the leader in %,d ms, summed in %,d ms)%n"
          + "  copy over loopback, cold: %,d ms  %.0f MB/s%n"
          + "  copy over loopback:      %,d ms  %.0f MB/s%n"
          + "  verify + load + install: %,d ms%n"
          + "  catch-up (copy+install): %,d ms  %.0f MB/s%n",
          nodes, bytes, ms(writeNanos), ms(sumNanos), ms(coldNanos), mbPerS(bytes, coldNanos), ms(copyNanos), mbPerS(bytes, copyNanos),
          ms(installNanos), ms(copyNanos + installNanos), mbPerS(bytes, copyNanos + installNanos));
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
      transfers.shutdownNow();
      watchdog.shutdownNow();
      leader.close();
      follower.close();
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static double mbPerS(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }

  /**
   * "/", then 1000 parents "/pNNN" each with its share of leaves "/pNNN/nNNNNNNNNN" of 100-byte
   * values, in path order, made as they are iterated (a big tree without a big heap).
   */
  private record Generated(long leaves) implements SnapshotNodes {
    static final int PARENTS = 1_000;

    @Override
    public long count() {
      long perParent = Math.max(1, (leaves + PARENTS - 1) / PARENTS);
      return 1 + (leaves + perParent - 1) / perParent + leaves;
    }

    @Override
    public Iterator<Entry> iterator() {
      long perParent = Math.max(1, (leaves + PARENTS - 1) / PARENTS);
      byte[] value = new byte[100];
      return new Iterator<>() {
        private long parent = -1; // -1: the root next
        private long child = -1; // -1: the parent itself next
        private long made;

        @Override
        public boolean hasNext() {
          return parent < 0 || made < leaves;
        }

        @Override
        public Entry next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          if (parent < 0) {
            parent = 0;
            return new Entry("/", NodeRecord.getDefaultInstance());
          }
          String parentPath = String.format("/p%03d", parent);
          if (child < 0) {
            child = 0;
            return new Entry(parentPath, NodeRecord.getDefaultInstance());
          }
          long id = parent * perParent + child;
          value[(int) (id % value.length)]++;
          Entry e = new Entry(String.format("%s/n%09d", parentPath, id), NodeRecord.newBuilder()
              .setData(ByteString.copyFrom(value)).setStat(Stat.newBuilder().setCzxid(id).setMzxid(id)).build());
          made++;
          if (++child == perParent) {
            parent++;
            child = -1;
          }
          return e;
        }
      };
    }
  }
}
