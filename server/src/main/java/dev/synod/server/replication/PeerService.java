package dev.synod.server.replication;

import dev.synod.peer.v1.PeerAck;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotPiece;
import dev.synod.peer.v1.SnapshotReadRequest;
import dev.synod.server.tls.MemberCertificates;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The peer endpoint: hands what peers send to the consensus driver. */
public final class PeerService extends PeerGrpc.PeerImplBase {
  /** Two: a file being summed or a snapshot being written for one follower holds up no other. */
  static final int TRANSFER_THREADS = 2;

  private final ConsensusDriver driver;
  /** Snapshot transfers: choosing a file, and reading it for followers while they take it. */
  private final ExecutorService transfers = Executors.newFixedThreadPool(TRANSFER_THREADS, r -> {
    Thread t = new Thread(r, "synod-snapshot-send");
    t.setDaemon(true);
    return t;
  });

  public PeerService(ConsensusDriver driver) {
    this.driver = driver;
  }

  /**
   * Takes a peer's envelopes. With peer TLS an envelope must come from a member the caller's
   * certificate speaks for ({@link MemberCertificates}); one that claims another sender ends the
   * stream with PERMISSION_DENIED and nothing of it reaches consensus.
   */
  @Override
  public StreamObserver<PeerEnvelope> send(StreamObserver<PeerAck> ack) {
    return new StreamObserver<>() {
      private boolean refused;

      @Override
      public void onNext(PeerEnvelope envelope) {
        if (refused) {
          return;
        }
        if (!MemberCertificates.allowsSender(envelope.getFrom())) {
          refused = true;
          ack.onError(Status.PERMISSION_DENIED.withDescription("this certificate does not speak for member "
              + envelope.getFrom()).asRuntimeException());
          return;
        }
        driver.receive(envelope);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (refused) {
          return;
        }
        ack.onNext(PeerAck.getDefaultInstance());
        ack.onCompleted();
      }
    };
  }

  /**
   * Sends one window of this server's newest snapshot file (see {@link SnapshotTransfer}). Reading
   * the file blocks, and peer calls run on the transport's threads, so that happens on threads of
   * their own; a follower that reads slowly holds none of them while it catches up.
   */
  @Override
  public void readSnapshot(SnapshotReadRequest request, StreamObserver<SnapshotPiece> out) {
    if (driver.isForeign(request.getClusterId())) {
      out.onError(Status.FAILED_PRECONDITION.withDescription("cluster_id: this server belongs to another"
          + " cluster").asRuntimeException());
      return;
    }
    SnapshotSender.serve(driver.snapshotSource(), driver.clusterId(), request,
        (ServerCallStreamObserver<SnapshotPiece>) out, transfers);
  }
}
