package dev.synod.server.replication;

import dev.synod.server.config.ServerConfig;
import dev.synod.server.storage.BackupFormat;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import dev.synod.api.v1.Stat;
import dev.synod.server.state.Paths;
import dev.synod.txn.v1.NodeRecord;

/**
 * Decides, at start, which cluster this data directory belongs to. No automatic rule can tell "a
 * new cluster" from "a majority of the cluster lost its disks" (both are members with empty
 * directories), so an empty directory of a multi-member cluster needs the operator to say which:
 * {@code --initial-cluster-state new} founds the cluster (every member, once, when it is created),
 * {@code existing} joins one that has a leader. A directory that already holds anything ignores the
 * flag: what it holds decides. A cluster of one defaults to {@code new} (an empty directory is
 * its first start; there is no one else to lose data to).
 *
 * <p>{@code --restore FILE} founds the new cluster from a backup: the empty directory gets the
 * backup's state as a snapshot covering slot 0, so the new cluster's log (and its new cluster id,
 * decided in it) starts after that state. Every member of the new cluster restores the same file.
 */
public final class ClusterCreation {
  private ClusterCreation() {}

  /**
   * The identity recorded in the directory, recording one first if there is none.
   *
   * @throws IllegalArgumentException (one line, naming the flag) if the directory is empty and
   *     the flag does not say what it is for
   */
  public static ClusterIdentity establish(ServerConfig config, ClusterConfig cluster,
      DurableStore store) throws IOException {
    Optional<ClusterIdentity> recorded = store.clusterIdentity();
    if (recorded.isPresent()) {
      ClusterIdentity identity = recorded.get();
      if (!config.restore().isEmpty() && identity.founding() && !identity.known()
          && store.snapshotFiles().isEmpty() && store.lastIndex() == 0) {
        // A restore that stopped between recording the identity and storing the state.
        store.installSnapshot(readBackup(config));
      }
      return identity;
    }
    ClusterIdentity identity;
    if (!store.isFresh()) {
      // Written by a version without cluster identities: a member with a history. It learns the id
      // from its leader (or, if its cluster has none yet, the cluster decides one).
      identity = ClusterIdentity.joiner();
    } else {
      String state = config.initialClusterState();
      if (state.isEmpty() && !cluster.isSingleNode()) {
        throw new IllegalArgumentException("data directory " + config.dataDir().toAbsolutePath()
            + " is empty and --members is set: pass --initial-cluster-state new to create the"
            + " cluster (every member, once) or --initial-cluster-state existing to join it");
      }
      if (state.equals(ServerConfig.CLUSTER_STATE_EXISTING) && cluster.isSingleNode()) {
        throw new IllegalArgumentException("--initial-cluster-state existing needs --members: a"
            + " cluster of one has no leader to join it (pass new, or no flag)");
      }
      identity = state.equals(ServerConfig.CLUSTER_STATE_EXISTING)
          ? ClusterIdentity.joiner() : ClusterIdentity.founder();
      if (!config.restore().isEmpty()) {
        // Read and checked whole before anything is written: a bad file leaves the directory empty.
        Snapshot restored = readBackup(config);
        store.recordClusterIdentity(identity);
        store.installSnapshot(restored);
        return identity;
      }
    }
    store.recordClusterIdentity(identity);
    return identity;
  }

  /**
   * {@code s} without {@link Paths#MEMBERS}: a backup carries the membership of the cluster it
   * was taken from, but the cluster it founds has the members of its own {@code --members}.
   */
  static Snapshot withoutMembership(Snapshot s) {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>(s.nodes());
    if (nodes.remove(Paths.MEMBERS) == null) {
      return s;
    }
    NodeRecord parent = nodes.get(Paths.SYSTEM);
    if (parent != null) {
      Stat.Builder stat = parent.getStat().toBuilder();
      stat.setNumChildren(Math.max(0, stat.getNumChildren() - 1));
      nodes.put(Paths.SYSTEM, parent.toBuilder().setStat(stat).build());
    }
    return new Snapshot(s.zxid(), s.slot(), s.timeMs(), nodes, s.sessions());
  }

  /**
   * The state of the backup {@code --restore} names, as a snapshot covering slot 0: the new
   * cluster's log starts after it, and decides the new cluster's id as any new cluster does.
   *
   * @throws IllegalArgumentException (one line) if the file cannot be read or is not a sound backup
   */
  private static Snapshot readBackup(ServerConfig config) throws IOException {
    Path file = Path.of(config.restore());
    try {
      return withoutMembership(BackupFormat.readFile(file).snapshot());
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("restore: backup file " + file + " does not exist");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("restore: " + file + ": " + e.getMessage());
    }
  }
}
