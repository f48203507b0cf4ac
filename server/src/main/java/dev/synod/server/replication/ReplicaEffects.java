package dev.synod.server.replication;

import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.storage.Snapshot;

/**
 * The effects of a {@link ReplicaLoop} step that leave the loop: messages and background jobs.
 * The loop's durable effects go to {@link ReplicaLog}, and applying decided writes goes to the
 * state machine; this interface is the rest.
 *
 * <p>Ordering contract (the one that keeps Paxos safe): the loop calls {@link #send} for a
 * message only after {@link ReplicaLog#persist} has returned for every state change that message
 * reports (a promise, an acceptance), except a leader's own Accepts, which may leave before its
 * own persist because the leader counts its own acceptance only once durable. A runner that moves
 * persisting or sending to other stages must keep that order per message.
 *
 * <p>None of these may block or call back into the loop; job completions come back as
 * {@link ReplicaEvent}s, and must never be lost.
 */
public interface ReplicaEffects {
  /** Sends to one peer. Never blocks; may drop (the protocol retransmits). */
  void send(int to, PeerEnvelope envelope);

  /**
   * Writes {@code snapshot} durably in the background, then steps
   * {@link ReplicaEvent.SnapshotWritten}; a storage failure stops the server.
   */
  void writeSnapshot(Snapshot snapshot);

  /**
   * Fetches the leader's snapshot covering at least {@code minSlot}, refusing one of another
   * cluster than {@code clusterId} (0: not known yet), stores it durably, then steps
   * {@link ReplicaEvent.SnapshotFetched}, or {@link ReplicaEvent.SnapshotFetchFailed}.
   */
  void fetchSnapshot(int leaderId, long minSlot, long clusterId);

  /** Something an operator should see once (a line for the server's output). */
  void notice(String line);
}
