package dev.synod.consensus;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the driver recovered from disk for a new {@link Replica}.
 *
 * @param promised the highest ballot this replica promised (persisted from {@code Ready.promised})
 * @param accepted the accepted entries at slots above {@code snapshotSlot}, latest per slot
 * @param commitIndex the durable commit marker: every slot up to it is decided, and its decided
 *     value is its entry in {@code accepted} (or it is at most {@code snapshotSlot})
 * @param snapshotSlot the slot the driver's last snapshot covers (0: none)
 * @param standing whether this replica votes, and if not, how it may start to; see {@link Standing}
 * @param membership the membership decided at or before {@code snapshotSlot} (the snapshot carries
 *     it), or null: none was ever decided in the log, the configured members are voters
 */
public record DurableState(
    Ballot promised,
    SortedMap<Long, Entry> accepted,
    long commitIndex,
    long snapshotSlot,
    Standing standing,
    Membership membership) {
  /**
   * What the data directory says about this replica's right to vote. No automatic rule can tell a
   * brand-new cluster from one whose majority lost its disks (both are members with nothing on
   * disk), so creating a cluster is an explicit, one-time act of the operator: only replicas whose
   * directories were created for a new cluster may bootstrap one.
   */
  public enum Standing {
    /** It persisted a non-null {@code Ready.promised} at some point: it votes. */
    VOTER,
    /**
     * It never persisted a promise (a new or wiped data directory of an existing cluster, possibly
     * holding entries learned while catching up): it does not vote (promise, accept, campaign) until
     * a leader of the cluster admits it (see {@link Freshness}). It never bootstraps a cluster.
     */
    JOINING,
    /**
     * As JOINING, but its data directory was created for a new cluster (the operator said so:
     * the server's {@code --initial-cluster-state new}) and nothing of that cluster is known yet:
     * with a majority of other such members and no member that has a history it bootstraps the
     * cluster; otherwise it joins like JOINING.
     */
    FOUNDING
  }

  /** Without a membership: the configured members are the voters until one is decided. */
  public DurableState(Ballot promised, SortedMap<Long, Entry> accepted, long commitIndex,
      long snapshotSlot, Standing standing) {
    this(promised, accepted, commitIndex, snapshotSlot, standing, null);
  }

  /** This state, with the membership its snapshot carries. */
  public DurableState withMembership(Membership m) {
    return new DurableState(promised, accepted, commitIndex, snapshotSlot, standing, m);
  }

  /** A replica that votes was built from a state with {@code fresh} false (compatibility). */
  public DurableState(Ballot promised, SortedMap<Long, Entry> accepted, long commitIndex,
      long snapshotSlot, boolean fresh) {
    this(promised, accepted, commitIndex, snapshotSlot, fresh ? Standing.JOINING : Standing.VOTER);
  }

  public DurableState {
    if (standing == null) {
      throw new IllegalArgumentException("standing must not be null");
    }
    if (promised == null) {
      throw new IllegalArgumentException("promised must not be null (use Ballot.ZERO)");
    }
    if (accepted == null) {
      throw new IllegalArgumentException("accepted must not be null");
    }
    if (snapshotSlot < 0) {
      throw new IllegalArgumentException("snapshotSlot must be >= 0, got " + snapshotSlot);
    }
    if (commitIndex < snapshotSlot) {
      throw new IllegalArgumentException("commitIndex " + commitIndex + " must be >= snapshotSlot " + snapshotSlot);
    }
    TreeMap<Long, Entry> copy = new TreeMap<>();
    for (Map.Entry<Long, Entry> e : accepted.entrySet()) {
      if (e.getValue() == null || e.getKey() == null || e.getKey() != e.getValue().slot()) {
        throw new IllegalArgumentException("accepted must map each slot to its entry, got " + e);
      }
      if (e.getKey() <= snapshotSlot) {
        continue; // covered by the snapshot
      }
      copy.put(e.getKey(), e.getValue());
    }
    for (long slot = snapshotSlot + 1; slot <= commitIndex; slot++) {
      if (!copy.containsKey(slot)) {
        throw new IllegalArgumentException("commitIndex " + commitIndex + " says slot " + slot
            + " is decided, but accepted holds no entry for it");
      }
    }
    accepted = Collections.unmodifiableSortedMap(copy);
  }

  /**
   * This replica has never persisted a non-null {@code Ready.promised}: an empty or wiped data
   * directory, or one that only holds entries learned while catching up. It does not vote until a
   * leader admits it (or, founding a new cluster, it bootstraps with the other founders).
   */
  public boolean fresh() {
    return standing != Standing.VOTER;
  }

  /** A new, empty data directory of a member of an existing cluster: it must be admitted. */
  public static DurableState empty() {
    return new DurableState(Ballot.ZERO, new TreeMap<>(), 0, 0, Standing.JOINING);
  }

  /** A new, empty data directory created for a new cluster: it may bootstrap with the other founders. */
  public static DurableState founding() {
    return new DurableState(Ballot.ZERO, new TreeMap<>(), 0, 0, Standing.FOUNDING);
  }
}
