package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.peer.v1.PeerAck;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three members on loopback with TLS on the client port and mutual TLS between members: the
 * cluster elects, replicates and answers TLS clients; callers on the peer port without a member's
 * certificate are refused.
 */
class TlsClusterTest {
  @TempDir Path dir;
  private TlsCluster cluster;

  @BeforeEach
  void startCluster() throws Exception {
    cluster = TlsCluster.start(dir, false);
  }

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private ManagedChannel track(ManagedChannel c) {
    return cluster.track(c);
  }

  private int awaitLeader() throws InterruptedException {
    return cluster.awaitLeader();
  }

  @Test
  void aTlsClusterReplicatesAndServesTlsClients() throws Exception {
    int leader = awaitLeader();
    int follower = leader % 3 + 1;
    int third = follower % 3 + 1;
    // A write through a follower is forwarded to the leader over the peer links.
    SynodGrpc.newBlockingStub(cluster.channel(follower, null))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .create(CreateRequest.newBuilder().setPath("/over-tls").setData(ByteString.copyFromUtf8("sealed")).build());
    SynodGrpc.SynodBlockingStub other = SynodGrpc.newBlockingStub(cluster.channel(third, null))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    other.sync(SyncRequest.newBuilder().setPath("/").build());
    assertEquals("sealed", other.getData(GetDataRequest.newBuilder().setPath("/over-tls").build())
        .getData().toStringUtf8());
  }

  @Test
  void thePeerPortRefusesEveryoneButMembers() throws Exception {
    awaitLeader();
    int port = cluster.peerPorts[1];
    Path peerCaFile = cluster.peerCaFile;
    // Signed by the peer CA, but it names no member's host.
    TestPki.Files2 intruder = TestPki.leaf(cluster.peerCa, "intruder", "DNS:intruder.example").write(dir, "intruder");
    StatusRuntimeException notMember = assertThrows(StatusRuntimeException.class, () -> fetchSnapshot(
        track(TlsNodes.tls(port, peerCaFile, intruder))));
    assertEquals(Status.Code.PERMISSION_DENIED, notMember.getStatus().getCode());
    assertEquals(Status.Code.PERMISSION_DENIED, send(track(TlsNodes.tls(port, peerCaFile, intruder)), 2).getCode());

    // The right host, but another CA: the handshake fails.
    TestPki.Files2 forged = TestPki.leaf(TestPki.ca("Forger CA"), "member-2", "IP:127.0.0.1").write(dir, "forged");
    StatusRuntimeException foreign = assertThrows(StatusRuntimeException.class, () -> fetchSnapshot(
        track(TlsNodes.tls(port, peerCaFile, forged))));
    assertEquals(Status.Code.UNAVAILABLE, foreign.getStatus().getCode());

    // No certificate, or no TLS at all.
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> fetchSnapshot(track(TlsNodes.tls(port, peerCaFile, null)))).getStatus().getCode());
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> fetchSnapshot(track(TlsNodes.plaintext(port)))).getStatus().getCode());

    // A member's certificate may not speak for an id that is no member of its host.
    TestPki.Files2 member = new TestPki.Files2(dir.resolve("member-2.pem"), dir.resolve("member-2.key"));
    assertEquals(Status.Code.PERMISSION_DENIED, send(track(TlsNodes.tls(port, peerCaFile, member)), 9).getCode());
    // ... while as itself it gets through.
    assertEquals(Status.Code.OK, send(track(TlsNodes.tls(port, peerCaFile, member)), 2).getCode());
  }

  private static void fetchSnapshot(ManagedChannel c) {
    PeerGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
        .readSnapshot(SnapshotReadRequest.newBuilder().setMinSlot(1).build()).hasNext();
  }

  /** Sends one empty envelope as member {@code from} and returns how the stream ended. */
  private static Status send(ManagedChannel c, int from) throws Exception {
    CompletableFuture<Status> end = new CompletableFuture<>();
    StreamObserver<PeerEnvelope> out = PeerGrpc.newStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
        .send(new StreamObserver<PeerAck>() {
          @Override
          public void onNext(PeerAck ack) {}

          @Override
          public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            end.complete(Status.OK);
          }
        });
    out.onNext(PeerEnvelope.newBuilder().setFrom(from).build());
    out.onCompleted();
    return end.get(15, TimeUnit.SECONDS);
  }
}
