package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Stat;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.storage.CorruptSnapshotException;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot file goes from a leader's disk to a follower's in checked pieces over real gRPC
 * (in-process): resumed after a broken call from where the copy is durable, started over when the
 * leader's file changed, refused when a piece or the whole fails its checksum, and installed as a
 * tree identical to the one the leader wrote.
 */
class SnapshotTransferTest {
  static final long CLUSTER = 0x5eed_cafe_0000_0001L;
  /** Small windows, so a snapshot of a few MiB takes several calls of several pieces. */
  static final long WINDOW_BYTES = 3 * SnapshotSource.PIECE_BYTES;

  @TempDir Path dir;
  private DurableStore leaderStore;
  private DurableStore followerStore;
  private ExecutorService transfers;
  private ScheduledExecutorService watchdog;
  private Server server;
  private ManagedChannel channel;
  /** Every request the follower made, in order. */
  private final List<SnapshotReadRequest> requests = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    leaderStore = DurableStore.open(dir.resolve("leader"), 1 << 20, FaultInjector.NONE);
    followerStore = DurableStore.open(dir.resolve("follower"), 1 << 20, FaultInjector.NONE);
    transfers = Executors.newFixedThreadPool(2);
    watchdog = Executors.newSingleThreadScheduledExecutor();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
    transfers.shutdownNow();
    watchdog.shutdownNow();
    leaderStore.close();
    followerStore.close();
  }

  @Test
  void aBrokenCallResumesFromTheDurableOffsetAndTheTreeArrivesIdentical() throws Exception {
    Snapshot sent = snapshot(17, 60_000);
    leaderStore.writeSnapshot(sent);
    long size = Files.size(leaderStore.snapshotFiles().get(17L));
    assertTrue(size > 2 * WINDOW_BYTES, "the file spans several windows: " + size);
    serveFromLeaderStore();
    // The connection breaks in the second call, after one of its pieces.
    int[] calls = {0};
    SnapshotDownload.Leader breaking = request -> {
      SnapshotDownload.Window w = recording().read(request);
      return ++calls[0] == 2 ? breakAfter(w, 1) : w;
    };
    SnapshotDownload download = download();

    SnapshotDownload.Done done = download.fetch(breaking, 17, CLUSTER);

    assertEquals(CLUSTER, done.clusterId());
    assertEquals(17, done.identity().getSlot());
    assertEquals(size, done.identity().getSizeBytes());
    assertFalse(requests.get(0).hasResume(), "the first call starts a copy");
    assertEquals(WINDOW_BYTES, requests.get(1).getOffset(), "the second window starts where the first ended");
    SnapshotReadRequest resumed = requests.get(2);
    assertEquals(done.identity(), resumed.getResume(), "the call after the break resumes the same file");
    assertEquals(WINDOW_BYTES, resumed.getOffset(),
        "... from its durable end (the piece after it was written but not yet synced)");
    assertInstalledEquals(sent, followerStore.installReceivedSnapshot(17, CLUSTER).orElseThrow());
    // And it is the follower's snapshot from now on, on disk.
    followerStore.close();
    followerStore = DurableStore.open(dir.resolve("follower"), 1 << 20, FaultInjector.NONE);
    assertInstalledEquals(sent, followerStore.loadSnapshot().orElseThrow());
  }

  @Test
  void aFetchThatFailsKeepsItsCopyAndTheNextFetchResumesIt() throws Exception {
    Snapshot sent = snapshot(17, 60_000);
    leaderStore.writeSnapshot(sent);
    serveFromLeaderStore();
    SnapshotDownload download = download();
    // The leader goes away after the first window: every call after that breaks at once.
    int[] calls = {0};
    SnapshotDownload.Leader dying = request -> {
      SnapshotDownload.Window w = recording().read(request);
      return ++calls[0] == 1 ? w : breakAfter(w, 0);
    };
    assertThrows(SnapshotDownload.TransferException.class, () -> download.fetch(dying, 17, CLUSTER));
    assertEquals(WINDOW_BYTES, download.durableBytes(), "the first window stays");
    requests.clear();

    download.fetch(recording(), 17, CLUSTER);

    assertEquals(WINDOW_BYTES, requests.get(0).getOffset(), "the next fetch resumes the copy");
    assertTrue(requests.get(0).hasResume());
    assertInstalledEquals(sent, followerStore.installReceivedSnapshot(17, CLUSTER).orElseThrow());
  }

  /** A copy is resumed within a process; a restart deletes what a crash left of it. */
  @Test
  void aRestartDeletesAPartialCopy() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 60_000));
    serveFromLeaderStore();
    SnapshotDownload.Leader failingSecond = request -> {
      SnapshotDownload.Window w = recording().read(request);
      return requests.size() >= 2 ? breakAfter(w, 0) : w;
    };
    assertThrows(SnapshotDownload.TransferException.class, () -> download().fetch(failingSecond, 17, CLUSTER));
    assertTrue(Files.size(followerStore.incomingSnapshotFile(17)) > 0);

    followerStore.close();
    followerStore = DurableStore.open(dir.resolve("follower"), 1 << 20, FaultInjector.NONE);

    assertFalse(Files.exists(followerStore.incomingSnapshotFile(17)));
    assertTrue(followerStore.snapshotFiles().isEmpty());
  }

  @Test
  void aCopyOfAFileTheLeaderNoLongerHasStartsOverWithItsNewest() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 60_000));
    serveFromLeaderStore();
    SnapshotDownload download = download();
    SnapshotDownload.Leader failingSecond = request -> {
      SnapshotDownload.Window w = recording().read(request);
      return requests.size() >= 2 ? breakAfter(w, 0) : w;
    };
    assertThrows(SnapshotDownload.TransferException.class, () -> download.fetch(failingSecond, 17, CLUSTER));
    assertTrue(download.durableBytes() > 0);
    // Meanwhile the leader writes two newer snapshots, and the one being copied is pruned.
    leaderStore.writeSnapshot(snapshot(30, 30_000));
    Snapshot newest = snapshot(40, 35_000);
    leaderStore.writeSnapshot(newest);
    assertFalse(leaderStore.snapshotFiles().containsKey(17L));
    requests.clear();

    SnapshotDownload.Done done = download.fetch(recording(), 17, CLUSTER);

    assertEquals(17, requests.get(0).getResume().getSlot(), "it asked to resume its copy");
    assertEquals(40, done.identity().getSlot(), "and got the leader's newest from the start");
    assertInstalledEquals(newest, followerStore.installReceivedSnapshot(40, CLUSTER).orElseThrow());
    assertFalse(Files.exists(followerStore.incomingSnapshotFile(17)), "the old copy is gone");
  }

  @Test
  void aCorruptPieceIsRefusedWithAClearErrorAndNothingOfItIsKept() throws Exception {
    Snapshot sent = snapshot(17, 60_000);
    leaderStore.writeSnapshot(sent);
    serveFromLeaderStore();
    SnapshotDownload download = download();
    // A bit flips on the way in the fifth piece (second window's second piece); its CRC stays.
    SnapshotDownload.Leader flipping = altering(5, piece -> piece.toBuilder()
        .setData(flipped(piece.getData())).build());

    SnapshotDownload.TransferException e = assertThrows(SnapshotDownload.TransferException.class,
        () -> download.fetch(flipping, 17, CLUSTER));

    assertTrue(e.getMessage().contains("corrupt snapshot piece: bytes " + (4L * SnapshotSource.PIECE_BYTES)
        + " to " + (5L * SnapshotSource.PIECE_BYTES) + " of the snapshot at slot 17 fail their CRC32C"),
        e.getMessage());
    assertEquals(WINDOW_BYTES, download.durableBytes(), "only the first, whole window is kept");
    requests.clear();
    download.fetch(recording(), 17, CLUSTER);
    assertEquals(WINDOW_BYTES, requests.get(0).getOffset());
    assertInstalledEquals(sent, followerStore.installReceivedSnapshot(17, CLUSTER).orElseThrow());
  }

  @Test
  void aCopyThatFailsTheWholeChecksumIsDiscarded() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 60_000));
    serveFromLeaderStore();
    SnapshotDownload download = download();
    // Damaged before its piece checksum was made (as a bad sector of the leader's would be).
    SnapshotDownload.Leader damaging = altering(2, piece -> {
      ByteString data = flipped(piece.getData());
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(data.asReadOnlyByteBuffer());
      return piece.toBuilder().setData(data).setCrc32C((int) crc.getValue()).build();
    });

    SnapshotDownload.TransferException e = assertThrows(SnapshotDownload.TransferException.class,
        () -> download.fetch(damaging, 17, CLUSTER));

    assertTrue(e.getMessage().contains("does not match the leader's checksum"), e.getMessage());
    assertEquals(0, download.durableBytes(), "the copy is dropped: the next fetch starts over");
    assertFalse(Files.exists(followerStore.incomingSnapshotFile(17)));
  }

  /**
   * A follower may have been told of another leader's compaction point: a leader with no file
   * that covers it writes a snapshot of its state first, and sends that.
   */
  @Test
  void aLeaderWithoutAFileCoveringTheSlotWritesOneFirst() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 100));
    Snapshot current = snapshot(25, 2_000);
    List<Long> asked = new ArrayList<>();
    SnapshotSource source = leaderSource(minSlot -> {
      asked.add(minSlot);
      leaderStore.writeSnapshot(current);
    });

    SnapshotDownload.Done done = download().fetch(source.direct(() -> CLUSTER), 20, CLUSTER);

    assertEquals(List.of(20L), asked);
    assertEquals(25, done.identity().getSlot());
    assertInstalledEquals(current, followerStore.installReceivedSnapshot(25, CLUSTER).orElseThrow());
  }

  /**
   * The leader's own file is damaged (a bad sector): its pieces and its sum are what the leader
   * reads, so only the follower's verification finds it. The next fetch names the file; the
   * leader verifies it, sets it aside and writes a new snapshot to send instead. Before, the
   * follower fetched the same damaged file again and again and never caught up.
   */
  @Test
  void aDamagedFileOnTheLeaderIsSetAsideAndReplacedOnceAFollowerRejectsItsCopy() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 20_000));
    Path file = leaderStore.snapshotFiles().get(17L);
    byte[] bytes = Files.readAllBytes(file);
    for (int i = 0; i < bytes.length; i += 4096) {
      bytes[i + 100] ^= 0x5a; // what bad sectors read back as (the store's header among them)
    }
    Files.write(file, bytes);
    Snapshot current = snapshot(25, 2_000);
    List<Long> asked = new ArrayList<>();
    SnapshotSource source = leaderSource(minSlot -> {
      asked.add(minSlot);
      leaderStore.writeSnapshot(current);
    });
    SnapshotDownload download = download();

    SnapshotDownload.Done first = download.fetch(source.direct(() -> CLUSTER), 10, CLUSTER);
    assertEquals(17, first.identity().getSlot());
    assertThrows(CorruptSnapshotException.class, () -> followerStore.installReceivedSnapshot(17, CLUSTER));
    download.rejected(first.identity());
    SnapshotDownload.Done second = download.fetch(source.direct(() -> CLUSTER), 10, CLUSTER);

    assertEquals(List.of(17L), asked, "a new snapshot was written in place of the damaged one");
    assertEquals(25, second.identity().getSlot());
    assertInstalledEquals(current, followerStore.installReceivedSnapshot(25, CLUSTER).orElseThrow());
    assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".damaged")), "kept aside for the operator");
    assertEquals(List.of(25L), List.copyOf(leaderStore.snapshotFiles().keySet()));
  }

  /** A file that verifies on the leader is sent again: the follower's copy was what went bad. */
  @Test
  void aRejectedFileThatVerifiesOnTheLeaderIsSentAgain() throws Exception {
    Snapshot sent = snapshot(17, 2_000);
    leaderStore.writeSnapshot(sent);
    SnapshotSource source = leaderSource(minSlot -> {
      throw new AssertionError("the leader's file is fine: nothing new to write");
    });
    SnapshotDownload download = download();
    SnapshotDownload.Done first = download.fetch(source.direct(() -> CLUSTER), 10, CLUSTER);
    download.rejected(first.identity());

    SnapshotDownload.Done second = download.fetch(source.direct(() -> CLUSTER), 10, CLUSTER);

    assertEquals(first.identity(), second.identity());
    assertInstalledEquals(sent, followerStore.installReceivedSnapshot(17, CLUSTER).orElseThrow());
  }

  /**
   * The cluster id a snapshot came with is durable before the snapshot is: a member that restarts
   * past the slot that decided its cluster's id (it never applies that slot again) must still know
   * the id. Before, a crash between the install and the loop's own record of the id left a founder
   * that, leading, proposed another id and adopted it alone (simulator seed 20154941).
   */
  @Test
  void aSnapshotFromAnotherMemberIsInstalledOnlyOnceItsClusterIdIsDurable() throws Exception {
    followerStore.recordClusterIdentity(dev.synod.server.storage.ClusterIdentity.founder());
    Snapshot sent = snapshot(17, 100);
    leaderStore.writeSnapshot(sent);
    serveFromLeaderStore();
    SnapshotDownload.Done done = download().fetch(recording(), 17, 0);

    followerStore.installReceivedSnapshot(17, done.clusterId());

    assertEquals(new dev.synod.server.storage.ClusterIdentity(CLUSTER, false),
        followerStore.clusterIdentity().orElseThrow(), "the id is recorded and the member founds nothing any more");
    followerStore.close();
    followerStore = DurableStore.open(dir.resolve("follower"), 1 << 20, FaultInjector.NONE);
    assertEquals(CLUSTER, followerStore.clusterIdentity().orElseThrow().clusterId());
    // A directory that knows its id keeps it, whatever a snapshot says.
    followerStore.learnClusterIdOfSnapshot(CLUSTER + 1);
    assertEquals(CLUSTER, followerStore.clusterIdentity().orElseThrow().clusterId());
  }

  /** A copy that is not newer than what the follower holds adds nothing: it is dropped. */
  @Test
  void aCopyNoNewerThanTheStoredSnapshotIsDropped() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 100));
    followerStore.writeSnapshot(snapshot(30, 10));
    SnapshotSource source = leaderSource(minSlot -> {
      throw new IllegalStateException("not needed");
    });
    download().fetch(source.direct(() -> CLUSTER), 17, CLUSTER);

    assertTrue(followerStore.installReceivedSnapshot(17, CLUSTER).isEmpty());

    assertFalse(Files.exists(followerStore.incomingSnapshotFile(17)));
    assertEquals(List.of(30L), List.copyOf(followerStore.snapshotFiles().keySet()));
    assertEquals(30, followerStore.snapshotSlot());
  }

  @Test
  void aFileThatIsNoSnapshotIsRefusedAtInstall() throws Exception {
    Files.write(followerStore.incomingSnapshotFile(9), new byte[4096]);

    CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class,
        () -> followerStore.installReceivedSnapshot(9, CLUSTER));

    assertTrue(e.getMessage().contains("the snapshot received for slot 9 fails verification"), e.getMessage());
    assertFalse(Files.exists(followerStore.incomingSnapshotFile(9)));
    assertTrue(followerStore.snapshotFiles().isEmpty());
  }

  @Test
  void anotherClustersSnapshotIsRefused() throws Exception {
    leaderStore.writeSnapshot(snapshot(17, 100));
    serveFromLeaderStore();

    SnapshotDownload.TransferException e = assertThrows(SnapshotDownload.TransferException.class,
        () -> download().fetch(recording(), 17, CLUSTER + 1));

    assertTrue(e.getMessage().contains("the snapshot is of cluster"), e.getMessage());
  }

  /** No deadline on the transfer, but a call that brings nothing for the idle timeout ends. */
  @Test
  void aLeaderThatStopsSendingIsGivenUpAfterTheIdleTimeout() throws Exception {
    List<ServerCallStreamObserver<SnapshotPiece>> stalled = new ArrayList<>();
    serve(new PeerGrpc.PeerImplBase() {
      @Override
      public void readSnapshot(SnapshotReadRequest request, StreamObserver<SnapshotPiece> out) {
        synchronized (stalled) {
          stalled.add((ServerCallStreamObserver<SnapshotPiece>) out); // and never a piece
        }
      }
    });
    SnapshotDownload.Leader leader = SnapshotTransfer.overGrpc(PeerGrpc.newBlockingStub(channel),
        Clock.SYSTEM, 100, watchdog);

    SnapshotDownload.TransferException e = assertThrows(SnapshotDownload.TransferException.class,
        () -> download().fetch(leader, 17, CLUSTER));

    assertTrue(e.getMessage().contains("no snapshot data from the leader for"), e.getMessage());
    dev.synod.server.Eventually.eventually(java.time.Duration.ofSeconds(10),
        "the follower cancelled each idle call", () -> allCancelled(stalled));
    synchronized (stalled) {
      assertEquals(SnapshotDownload.FRUITLESS_CALLS_MAX, stalled.size());
    }
  }

  // -----------------------------------------------------------------------------------------------

  private static boolean allCancelled(List<ServerCallStreamObserver<SnapshotPiece>> calls) {
    synchronized (calls) {
      return calls.stream().allMatch(ServerCallStreamObserver::isCancelled);
    }
  }

  private SnapshotDownload download() {
    return new SnapshotDownload(followerStore.disk(), followerStore::incomingSnapshotFile, WINDOW_BYTES);
  }

  /** A leader's answer when none of its files covers a slot (see SnapshotSource.Files#writeCovering). */
  private interface Covering {
    void write(long minSlot) throws IOException;
  }

  /** The leader store's snapshot files as a transfer sees them; {@code covering} writes a newer one. */
  private SnapshotSource leaderSource(Covering covering) {
    return new SnapshotSource(leaderStore.disk(), new SnapshotSource.Files() {
      @Override
      public boolean setAsideIfDamaged(long slot) throws IOException {
        return leaderStore.setAsideIfDamaged(slot);
      }

      @Override
      public SortedMap<Long, Path> list() throws IOException {
        return leaderStore.snapshotFiles();
      }

      @Override
      public void writeCovering(long minSlot) throws IOException {
        covering.write(minSlot);
      }
    });
  }

  private void serveFromLeaderStore() throws IOException {
    SnapshotSource source = leaderSource(minSlot -> {
      throw new IllegalStateException("this leader has applied less than slot " + minSlot);
    });
    serve(new PeerGrpc.PeerImplBase() {
      @Override
      public void readSnapshot(SnapshotReadRequest request, StreamObserver<SnapshotPiece> out) {
        SnapshotSender.serve(source, CLUSTER, request, (ServerCallStreamObserver<SnapshotPiece>) out,
            transfers);
      }
    });
  }

  private void serve(PeerGrpc.PeerImplBase service) throws IOException {
    String name = InProcessServerBuilder.generateName();
    // Direct executor, as the real peer server: the sender must not read files on it.
    server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  /** The leader over gRPC, each request recorded. */
  private SnapshotDownload.Leader recording() {
    SnapshotDownload.Leader grpc = SnapshotTransfer.overGrpc(PeerGrpc.newBlockingStub(channel), Clock.SYSTEM,
        SnapshotTransfer.IDLE_TIMEOUT_MS, watchdog);
    return request -> {
      requests.add(request);
      return grpc.read(request);
    };
  }

  /** The leader, with the {@code n}-th piece (from 1, over all calls) changed by {@code change}. */
  private SnapshotDownload.Leader altering(int n, UnaryOperator<SnapshotPiece> change) {
    int[] seen = {0};
    SnapshotDownload.Leader inner = recording();
    return request -> {
      SnapshotDownload.Window w = inner.read(request);
      return new SnapshotDownload.Window() {
        @Override
        public boolean hasNext() {
          return w.hasNext();
        }

        @Override
        public SnapshotPiece next() {
          SnapshotPiece p = w.next();
          return ++seen[0] == n ? change.apply(p) : p;
        }

        @Override
        public void close() {
          w.close();
        }
      };
    };
  }

  /** {@code w}, breaking as a lost connection does after {@code pieces} pieces. */
  private static SnapshotDownload.Window breakAfter(SnapshotDownload.Window w, int pieces) {
    return new SnapshotDownload.Window() {
      private int taken;

      @Override
      public boolean hasNext() {
        if (taken == pieces) {
          w.close();
          throw Status.UNAVAILABLE.withDescription("connection reset (test)").asRuntimeException();
        }
        return w.hasNext();
      }

      @Override
      public SnapshotPiece next() {
        taken++;
        return w.next();
      }

      @Override
      public void close() {
        w.close();
      }
    };
  }

  private static ByteString flipped(ByteString data) {
    byte[] bytes = data.toByteArray();
    bytes[bytes.length / 2] ^= 0x10;
    return ByteString.copyFrom(bytes);
  }

  /** A snapshot of {@code nodes} nodes of 100-byte values under a few parents, and two sessions. */
  static Snapshot snapshot(long slot, int nodes) {
    SortedMap<String, NodeRecord> tree = new TreeMap<>();
    tree.put("/", NodeRecord.getDefaultInstance());
    byte[] value = new byte[100];
    for (int i = 0; i < nodes; i++) {
      value[i % value.length] = (byte) (i + slot);
      tree.put("/p" + (i % 10) + (i < 10 ? "" : "/n" + i), NodeRecord.newBuilder()
          .setData(ByteString.copyFrom(value))
          .setStat(Stat.newBuilder().setCzxid(i).setMzxid(slot)).build());
    }
    return new Snapshot(slot * 10, slot, 1_700_000_000_000L + slot, tree, List.of(
        SessionRecord.newBuilder().setSessionId(5).setTimeoutMs(9_000).build(),
        SessionRecord.newBuilder().setSessionId(6).setRecentResultsMax(9).build()));
  }

  private static void assertInstalledEquals(Snapshot sent, Snapshot got) {
    assertEquals(sent.slot(), got.slot());
    assertEquals(sent.zxid(), got.zxid());
    assertEquals(sent.timeMs(), got.timeMs());
    assertEquals(sent.sessions(), got.sessions());
    assertEquals(sent.nodeCount(), got.nodeCount());
    assertEquals(sent.nodes(), got.nodes());
  }
}
