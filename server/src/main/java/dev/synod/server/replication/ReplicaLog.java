package dev.synod.server.replication;

import dev.synod.consensus.Replica;
import dev.synod.server.storage.ClusterIdentity;
import java.io.IOException;

/**
 * The acceptor's durable state, as the replica loop sees it. {@link AcceptorLog} keeps it in the
 * server's write-ahead log (in the simulator too, over a simulated disk); tests may substitute one.
 *
 * <p>Rules: {@link #persist} returns only when what the Ready asks to be durable is durable
 * (a commit mark alone may be written without waiting: it is learned again if lost); an
 * {@link IOException} from any method stops the server, it never limps on.
 */
public interface ReplicaLog {
  /** Persists what a Ready asks for; does nothing if it asks for nothing. */
  void persist(Replica.Ready ready) throws IOException;

  /** Drops what no kept snapshot needs (those at or below {@code oldestKeptSnapshotSlot}). */
  void truncateCoveredBy(long oldestKeptSnapshotSlot) throws IOException;

  /** A leader's snapshot was installed: nothing at or below {@code slot} is needed any more. */
  void snapshotInstalled(long slot);

  /** Records, durably, the cluster this member belongs to (learned once, never changed). */
  void recordClusterIdentity(ClusterIdentity identity) throws IOException;
}
