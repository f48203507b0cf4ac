package dev.synod.server.replication;

import dev.synod.peer.v1.FetchSnapshotRequest;
import dev.synod.peer.v1.PeerAck;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.PeerGrpc;
import dev.synod.peer.v1.SnapshotChunk;
import dev.synod.server.tls.MemberCertificates;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The peer endpoint: hands what peers send to the consensus driver. */
public final class PeerService extends PeerGrpc.PeerImplBase {
  private final ConsensusDriver driver;
  private final ExecutorService transfers = Executors.newSingleThreadExecutor(r -> {
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
   * Taking and streaming a snapshot blocks, and peer calls run on the transport's threads, so it
   * happens on a thread of its own (one transfer at a time; they are rare).
   */
  @Override
  public void fetchSnapshot(FetchSnapshotRequest request, StreamObserver<SnapshotChunk> out) {
    if (driver.isForeign(request.getClusterId())) {
      out.onError(Status.FAILED_PRECONDITION.withDescription("cluster_id: this server belongs to another"
          + " cluster").asRuntimeException());
      return;
    }
    transfers.execute(() -> {
      try {
        SnapshotTransfer.send(driver.snapshotForTransfer(request.getMinSlot()), driver.clusterId(), out);
      } catch (IllegalStateException e) {
        out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.onError(Status.UNAVAILABLE.withDescription("interrupted").asRuntimeException());
      } catch (RuntimeException e) {
        out.onError(Status.UNAVAILABLE.withDescription("snapshot transfer failed: " + e).asRuntimeException());
      }
    });
  }
}
