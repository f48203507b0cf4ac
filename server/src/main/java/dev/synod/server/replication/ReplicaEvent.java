package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.consensus.Message;
import dev.synod.consensus.MessageCodec;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.peer.v1.SessionLiveness;
import dev.synod.peer.v1.SessionLivenessAck;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.WritePipeline.BarrierDone;
import dev.synod.server.state.SynodException;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Everything that can happen to a {@link ReplicaLoop}, as data. The loop is stepped with one
 * event at a time, on one thread (or by the simulator); every input of the replication layer is
 * one of these. Each kind is dispatched to its own method of {@link Handler}, so a new kind that
 * is not handled everywhere does not compile.
 *
 * <p>Two classes of events, with different rules in {@link ReplicaRunner}: <em>admitted</em>
 * events (client writes, barriers, peer input) may be refused at the door when the loop is
 * overloaded (a client gets OVERLOADED, a peer's message counts as lost, which the protocol
 * tolerates); <em>completions</em> of the loop's own background jobs are never refused or lost.
 */
public sealed interface ReplicaEvent {

  /** One method per kind of event. */
  interface Handler {
    void clientWrite(ClientWrite e) throws IOException;

    void barrier(Barrier e) throws IOException;

    void peerMessage(PeerMessage e) throws IOException;

    void forwarded(Forwarded e) throws IOException;

    void memberChange(MemberChange e) throws IOException;

    void liveness(Liveness e) throws IOException;

    void livenessAck(LivenessAck e) throws IOException;

    void readIndexAsked(ReadIndexAsked e) throws IOException;

    void readIndexAnswered(ReadIndexAnswered e) throws IOException;

    void tick(Tick e) throws IOException;

    void snapshotWanted(SnapshotWanted e) throws IOException;

    void snapshotWritten(SnapshotWritten e) throws IOException;

    void snapshotFetched(SnapshotFetched e) throws IOException;

    void snapshotFetchFailed(SnapshotFetchFailed e) throws IOException;

    void persisted(Persisted e) throws IOException;
  }

  /**
   * What a peer's envelope asks of the loop, or null when it is to be dropped: from an unknown
   * member or from ourselves, malformed, or of a kind this version does not know. Never throws:
   * a peer's message must never stop a server.
   */
  static ReplicaEvent fromPeer(PeerEnvelope envelope, ClusterConfig cluster, long ourClusterId) {
    return fromPeer(envelope, cluster.peerAddresses()::containsKey, cluster.selfId(), ourClusterId);
  }

  /** As above, {@code isMember} saying who is a member now (it follows the decided membership). */
  static ReplicaEvent fromPeer(PeerEnvelope envelope, java.util.function.IntPredicate isMember, int selfId,
      long ourClusterId) {
    int from = envelope.getFrom();
    if (!isMember.test(from) || from == selfId
        || isForeign(envelope.getClusterId(), ourClusterId)) {
      return null;
    }
    return switch (envelope.getBodyCase()) {
      case CONSENSUS -> {
        try {
          yield new PeerMessage(from, envelope.getClusterId(),
              MessageCodec.decode(envelope.getConsensus().asReadOnlyByteBuffer()));
        } catch (RuntimeException malformed) {
          yield null;
        }
      }
      case FORWARD -> new Forwarded(from, envelope.getForward().getTxnsList());
      case LIVENESS -> new Liveness(from, envelope.getLiveness());
      case LIVENESS_ACK -> new LivenessAck(from, envelope.getLivenessAck());
      case READ_INDEX -> new ReadIndexAsked(from, envelope.getReadIndex().getReadId());
      case READ_INDEX_REPLY -> new ReadIndexAnswered(from, envelope.getReadIndexReply().getReadId(),
          envelope.getReadIndexReply().getOk(), envelope.getReadIndexReply().getIndex());
      case BODY_NOT_SET -> null;
    };
  }

  /** Whether {@code theirs} is another cluster's id than {@code ours} (0, not known yet, is nobody's). */
  static boolean isForeign(long theirs, long ours) {
    return theirs != 0 && ours != 0 && theirs != ours;
  }

  /** Calls the handler's method for this kind. */
  void dispatch(Handler handler) throws IOException;

  /**
   * Answers the event's waiter, if it has one, when the loop will not handle the event (it
   * stopped, or the runner refused it at the door).
   */
  default void refuse(ErrorReason reason, String why) {}

  /** Whether the runner may refuse this event at the door. Completions: never. */
  default boolean admitted() {
    return true;
  }

  /** A client's write, to be sequenced on this server (leader) or forwarded (follower). */
  record ClientWrite(Txn.Builder txn, Applied onApplied, long deadlineNanos) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.clientWrite(this);
    }

    @Override
    public void refuse(ErrorReason reason, String why) {
      onApplied.onApplied(txn.build(), Response.newBuilder().setRequestNo(txn.getRequestNo())
          .setError(new SynodException(reason, why).toError()).build());
    }
  }

  /** A linearizable barrier (Sync, or a read that asked for linearizability). */
  record Barrier(BarrierDone done, long deadlineNanos) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.barrier(this);
    }

    @Override
    public void refuse(ErrorReason reason, String why) {
      done.done(0, new SynodException(reason, why).toError());
    }
  }

  /** A consensus message from peer {@code from} of cluster {@code clusterId} (0: not known yet). */
  record PeerMessage(int from, long clusterId, Message message) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.peerMessage(this);
    }
  }

  /**
   * An operator's membership change or leadership transfer, answered through {@code done} once
   * it took effect here, was refused, or its deadline passed.
   */
  record MemberChange(MemberChanges.Request request, Consumer<MemberChanges.Outcome> done,
      long deadlineNanos) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.memberChange(this);
    }

    @Override
    public void refuse(ErrorReason reason, String why) {
      done.accept(new MemberChanges.Outcome(MemberChanges.Code.BUSY, why, null, -1));
    }
  }

  /** Writes a follower forwarded to this server, in that follower's queue order. */
  record Forwarded(int from, List<Txn> txns) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.forwarded(this);
    }
  }

  /** A follower's report of which sessions its clients kept alive (to the leader). */
  record Liveness(int from, SessionLiveness report) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.liveness(this);
    }
  }
  /** The leader acknowledged one of this follower's liveness reports. */
  record LivenessAck(int from, SessionLivenessAck ack) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.livenessAck(this);
    }
  }


  /** A follower asks this server (as leader) for a read index. */
  record ReadIndexAsked(int from, long readId) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.readIndexAsked(this);
    }
  }

  /** The leader answered this server's read-index request. */
  record ReadIndexAnswered(int from, long readId, boolean ok, long index) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.readIndexAnswered(this);
    }
  }

  /** Time passed: the runner's monotonic clock reached the next tick. */
  record Tick(long nowNanos) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.tick(this);
    }
  }

  /** A peer wants this server's state to catch up from; {@code reply} gets it, taken at once. */
  record SnapshotWanted(long minSlot, Consumer<Snapshot> reply) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.snapshotWanted(this);
    }

    @Override
    public void refuse(ErrorReason reason, String why) {
      reply.accept(null);
    }
  }

  /** Completion: the background write of the loop's own snapshot is durable. */
  record SnapshotWritten(long slot, boolean stored) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.snapshotWritten(this);
    }

    @Override
    public boolean admitted() {
      return false;
    }
  }

  /**
   * Completion: a snapshot fetched from the leader, of cluster {@code clusterId} (0: the leader
   * did not know it yet), is durable in this server's store.
   */
  record SnapshotFetched(Snapshot snapshot, long clusterId) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.snapshotFetched(this);
    }

    @Override
    public boolean admitted() {
      return false;
    }
  }

  /** Completion: the fetch failed (a network or leader problem); the loop may try again. */
  record SnapshotFetchFailed(String why) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.snapshotFetchFailed(this);
    }

    @Override
    public boolean admitted() {
      return false;
    }
  }

  /**
   * Completion: the log write of persist round {@code round} is durable, or failed with
   * {@code failure} (then the server must stop).
   */
  record Persisted(long round, IOException failure) implements ReplicaEvent {
    @Override
    public void dispatch(Handler handler) throws IOException {
      handler.persisted(this);
    }

    @Override
    public boolean admitted() {
      return false;
    }
  }
}
