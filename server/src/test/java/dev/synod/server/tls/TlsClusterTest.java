package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.peer.v1.FetchSnapshotRequest;
import dev.synod.peer.v1.PeerAck;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.server.SynodNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
  private TestPki.Issued peerCa;
  private Path caFile;
  private Path peerCaFile;
  private final int[] peerPorts = new int[4];
  private final SynodNode[] nodes = new SynodNode[4];
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void startCluster() throws Exception {
    TestPki.Issued ca = TestPki.ca("Synod client-port CA");
    caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    peerCa = TestPki.ca("Synod peer CA");
    peerCaFile = dir.resolve("peer-ca.pem");
    TestPki.writeCerts(peerCaFile, peerCa.cert());
    StringBuilder members = new StringBuilder();
    for (int i = 1; i <= 3; i++) {
      peerPorts[i] = TlsNodes.freePort();
      members.append(i == 1 ? "" : ",").append(i).append("=127.0.0.1:").append(peerPorts[i]);
    }
    for (int i = 1; i <= 3; i++) {
      TestPki.Files2 serving = TestPki.leaf(ca, "synod-" + i, "IP:127.0.0.1").write(dir, "server-" + i);
      TestPki.Files2 member = TestPki.leaf(peerCa, "member-" + i, "IP:127.0.0.1").write(dir, "member-" + i);
      nodes[i] = TlsNodes.start(dir.resolve("s" + i), "--server-id", Integer.toString(i),
          "--members", members.toString(), "--initial-cluster-state", "new",
          "--tick-ms", "10", "--election-ticks-min", "10", "--election-ticks-max", "20",
          "--heartbeat-ticks", "2", "--write-timeout-ms", "3000",
          "--tls-cert", serving.cert().toString(), "--tls-key", serving.key().toString(),
          "--peer-tls-cert", member.cert().toString(), "--peer-tls-key", member.key().toString(),
          "--peer-tls-ca", peerCaFile.toString());
    }
  }

  @AfterEach
  void stop() throws Exception {
    TlsNodes.shutdown(channels.toArray(ManagedChannel[]::new));
    for (SynodNode n : nodes) {
      if (n != null) {
        n.close();
      }
    }
  }

  private ManagedChannel track(ManagedChannel c) {
    channels.add(c);
    return c;
  }

  private int awaitLeader() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      for (int i = 1; i <= 3; i++) {
        if (nodes[i].driver().isLeader()) {
          return i;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader elected over mutual TLS");
  }

  @Test
  void aTlsClusterReplicatesAndServesTlsClients() throws Exception {
    int leader = awaitLeader();
    int follower = leader % 3 + 1;
    int third = follower % 3 + 1;
    // A write through a follower is forwarded to the leader over the peer links.
    SynodGrpc.newBlockingStub(track(TlsNodes.tls(nodes[follower].port(), caFile, null)))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .create(CreateRequest.newBuilder().setPath("/over-tls").setData(ByteString.copyFromUtf8("sealed")).build());
    SynodGrpc.SynodBlockingStub other = SynodGrpc.newBlockingStub(track(TlsNodes.tls(nodes[third].port(), caFile, null)))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    other.sync(SyncRequest.newBuilder().setPath("/").build());
    assertEquals("sealed", other.getData(GetDataRequest.newBuilder().setPath("/over-tls").build())
        .getData().toStringUtf8());
  }

  @Test
  void thePeerPortRefusesEveryoneButMembers() throws Exception {
    awaitLeader();
    int port = peerPorts[1];
    // Signed by the peer CA, but it names no member's host.
    TestPki.Files2 intruder = TestPki.leaf(peerCa, "intruder", "DNS:intruder.example").write(dir, "intruder");
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
        .fetchSnapshot(FetchSnapshotRequest.newBuilder().setMinSlot(1).build()).hasNext();
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
