package dev.synod.server.replication;

import dev.synod.consensus.Ballot;
import dev.synod.peer.v1.PeerEnvelope;
import java.io.IOException;
import dev.synod.server.storage.Snapshot;

/**
 * The effects of a {@link ReplicaLoop} step that leave the loop: messages and background jobs.
 * The loop's durable effects go to {@link ReplicaLog}, and applying decided writes goes to the
 * state machine; this interface is the rest.
 *
 * <p>Ordering contract (the one that keeps Paxos safe): the loop calls {@link #send} for a
 * message only after {@link ReplicaLog#persist} has returned for every state change that message
 * reports (a promise, an acceptance), except a leader's own Accepts, which may leave before its
 * own persist because the leader counts its own acceptance only once durable. The loop keeps that
 * order itself when the log write runs on another stage ({@link #persist}): what a Ready's write
 * makes true is sent only once {@link ReplicaEvent.Persisted} has come back.
 *
 * <p>None of these may block or call back into the loop; job completions come back as
 * {@link ReplicaEvent}s, and must never be lost.
 */
public interface ReplicaEffects {
  /** One Ready's log write, with its fsync. */
  @FunctionalInterface
  interface LogWrite {
    void run() throws IOException;
  }

  /** Sends to one peer. Never blocks; may drop (the protocol retransmits). */
  void send(int to, PeerEnvelope envelope);

  /**
   * Runs one Ready's log write, either right here (returns true once it is durable; a failure
   * throws) or on the persist stage (returns false, and steps {@link ReplicaEvent.Persisted} with
   * {@code round} once it is durable or has failed). The loop has at most one write in flight and
   * takes no further Ready until it completes, but keeps handling events, applying what is
   * decided and answering meanwhile: the next batch accumulates while the fsync runs.
   */
  default boolean persist(long round, LogWrite write) throws IOException {
    write.run();
    return true;
  }

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

  // -----------------------------------------------------------------------------------------------
  // What an operator watches (logs and metrics). The loop only tells; these return nothing the
  // loop uses, so a runner may ignore them (the simulator does) without changing what it decides.

  /**
   * A membership was decided (or restored from a snapshot): peer links follow it. With
   * {@code proposed}, this leader just proposed it: links to its new members open at once (the
   * leader replicates to them before it is decided), none close.
   */
  default void membershipChanged(dev.synod.consensus.Membership membership, boolean proposed) {}

  /** This member started an election: it asks the others to promise {@code ballot}. */
  default void electionStarted(Ballot ballot) {}

  /**
   * The election this member started at {@code ballot} ended without it leading: another member
   * leads ({@code leaderId}, or -1 if none is known yet) or a higher ballot ({@code promised}) won.
   */
  default void electionLost(Ballot ballot, int leaderId, Ballot promised) {}

  /**
   * The leader this member follows changed: {@code leaderId} (itself when {@code leading}, -1 when
   * it knows none), at the highest ballot this member has promised.
   */
  default void leaderChanged(int leaderId, Ballot ballot, boolean leading) {}

  /** This follower asked {@code leaderId} for the decided entries from {@code fromSlot} on. */
  default void catchingUp(int leaderId, long fromSlot) {}

  /** This leader told {@code peer} it is behind the compacted log: it must fetch a snapshot. */
  default void snapshotRequired(int peer, long snapshotSlot) {}

  /** This member installed a snapshot fetched from its leader, through {@code slot}. */
  default void snapshotInstalled(long slot) {}

  /** The leader proposed one slot of {@code txns} transactions, {@code bytes} long. */
  default void batchProposed(int txns, int bytes) {}

  /** A session expired, as decided at {@code zxid} in the log (told on every member as it applies). */
  default void sessionExpired(long sessionId, long zxid) {}
}
