package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.api.v1.Stat;
import dev.synod.peer.v1.FetchSnapshotRequest;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotChunk;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A snapshot sent in chunks arrives whole, decided time included. */
class SnapshotTransferTest {
  @Test
  void aSnapshotOfManyChunksArrivesWithItsDecidedTime() throws Exception {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    nodes.put("/", NodeRecord.getDefaultInstance());
    for (int i = 0; i < SnapshotTransfer.CHUNK_NODES_MAX * 2 + 5; i++) {
      nodes.put("/n" + i, NodeRecord.newBuilder().setStat(Stat.newBuilder().setCzxid(i)).build());
    }
    Snapshot sent = new Snapshot(42, 17, 1_700_000_000_123L, nodes,
        List.of(SessionRecord.newBuilder().setSessionId(5).setRecentResultsMax(9).build()));
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new PeerGrpc.PeerImplBase() {
          @Override
          public void fetchSnapshot(FetchSnapshotRequest request, StreamObserver<SnapshotChunk> out) {
            SnapshotTransfer.send(sent, 77, out);
          }
        }).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      SnapshotTransfer.Received got = SnapshotTransfer.fetch(PeerGrpc.newBlockingStub(channel), 17, 77);
      assertEquals(77, got.clusterId());
      Snapshot received = got.snapshot();
      assertEquals(sent.zxid(), received.zxid());
      assertEquals(sent.slot(), received.slot());
      assertEquals(sent.timeMs(), received.timeMs());
      assertEquals(sent.nodes(), received.nodes());
      assertEquals(sent.sessions(), received.sessions());
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
