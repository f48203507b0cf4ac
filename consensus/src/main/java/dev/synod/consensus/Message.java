package dev.synod.consensus;

import java.util.List;

/**
 * Everything replicas say to each other. The driver moves these between replicas (as bytes, see
 * {@link MessageCodec}) and never looks inside. Constructors validate, so a decoded message is
 * well formed; whether it makes sense in the receiver's state is the receiver's business.
 */
public sealed interface Message {
  int from();

  int to();

  /** Phase 1a: promise {@code ballot} and report what you accepted at slots >= fromSlot. */
  record Prepare(int from, int to, Ballot ballot, long fromSlot, long commitIndex) implements Message {
    public Prepare {
      requireNode(from, to);
      requireBallot(ballot);
      if (commitIndex < 0 || fromSlot <= commitIndex) {
        throw new IllegalArgumentException("Prepare needs 0 <= commitIndex < fromSlot, got commitIndex="
            + commitIndex + " fromSlot=" + fromSlot);
      }
    }
  }

  /**
   * Phase 1b: the promise, with every accepted entry in [fromSlot, coveredTo] (the acceptor had
   * more above coveredTo unless coveredTo is {@link #COVERS_ALL}).
   */
  record Promise(int from, int to, Ballot ballot, long fromSlot, long coveredTo, List<Entry> entries)
      implements Message {
    public static final long COVERS_ALL = Long.MAX_VALUE;

    public Promise {
      requireNode(from, to);
      requireBallot(ballot);
      if (fromSlot < 1 || coveredTo < fromSlot - 1) {
        throw new IllegalArgumentException("Promise needs 1 <= fromSlot <= coveredTo + 1, got fromSlot="
            + fromSlot + " coveredTo=" + coveredTo);
      }
      entries = List.copyOf(entries);
      long previous = fromSlot - 1;
      for (Entry e : entries) {
        if (e.slot() <= previous || e.slot() > coveredTo) {
          throw new IllegalArgumentException("Promise entries must be ascending within [fromSlot, coveredTo]");
        }
        previous = e.slot();
      }
    }
  }

  /**
   * A refusal: {@code rejected} is below {@code promised}, or the candidate is behind on commits, or
   * an Accept of {@code rejected} proposed another value for a slot the sender knows decided (a
   * deposed leader; {@code promised} is then at least the ballot of the sender's decided entry).
   */
  record Nack(int from, int to, Ballot rejected, Ballot promised, long commitIndex) implements Message {
    public Nack {
      requireNode(from, to);
      requireBallot(rejected);
      requireBallot(promised);
      requireSlotIndex(commitIndex, "commitIndex");
    }
  }

  /** Phase 2a: accept these contiguous entries (all in {@code ballot}); the leader's commit index rides along. */
  record Accept(int from, int to, Ballot ballot, long leaderCommit, List<Entry> entries) implements Message {
    public Accept {
      requireNode(from, to);
      requireBallot(ballot);
      requireSlotIndex(leaderCommit, "leaderCommit");
      entries = List.copyOf(entries);
      if (entries.isEmpty()) {
        throw new IllegalArgumentException("Accept needs at least one entry");
      }
      long first = entries.get(0).slot();
      for (int i = 0; i < entries.size(); i++) {
        Entry e = entries.get(i);
        if (e.slot() != first + i || !e.ballot().equals(ballot)) {
          throw new IllegalArgumentException("Accept entries must be contiguous and in the message's ballot");
        }
      }
    }

    public long firstSlot() {
      return entries.get(0).slot();
    }

    public long lastSlot() {
      return entries.get(entries.size() - 1).slot();
    }
  }

  /** Phase 2b: every slot in [firstSlot, lastSlot] is durably accepted in {@code ballot}. */
  record Accepted(int from, int to, Ballot ballot, long firstSlot, long lastSlot) implements Message {
    public Accepted {
      requireNode(from, to);
      requireBallot(ballot);
      if (firstSlot < 1 || lastSlot < firstSlot) {
        throw new IllegalArgumentException("Accepted needs 1 <= firstSlot <= lastSlot, got "
            + firstSlot + ".." + lastSlot);
      }
    }
  }

  /**
   * The leader is alive; its commit index; {@code round} numbers the read-index confirmation.
   * Round {@link #COMMIT_NOTICE} only carries a new commit index (sent the moment a write is
   * decided with nothing else in flight to carry it): it is not acknowledged.
   */
  record Heartbeat(int from, int to, Ballot ballot, long leaderCommit, long round) implements Message {
    /** The round of a heartbeat that only tells followers the commit index: no ack is wanted. */
    public static final long COMMIT_NOTICE = 0;

    public Heartbeat {
      requireNode(from, to);
      requireBallot(ballot);
      requireSlotIndex(leaderCommit, "leaderCommit");
      requireSlotIndex(round, "round");
    }
  }

  /** A follower still recognises {@code ballot} (no higher promise) as of heartbeat {@code round}. */
  record HeartbeatAck(int from, int to, Ballot ballot, long round) implements Message {
    public HeartbeatAck {
      requireNode(from, to);
      requireBallot(ballot);
      requireSlotIndex(round, "round");
    }
  }

  /** Send me the decided entries from {@code fromSlot} on. */
  record CatchupRequest(int from, int to, long fromSlot) implements Message {
    public CatchupRequest {
      requireNode(from, to);
      if (fromSlot < 1) {
        throw new IllegalArgumentException("fromSlot must be >= 1, got " + fromSlot);
      }
    }
  }

  /** Decided entries (ascending), and how far the sender's decided prefix reaches. */
  record CatchupReply(int from, int to, long commitIndex, List<Entry> entries) implements Message {
    public CatchupReply {
      requireNode(from, to);
      requireSlotIndex(commitIndex, "commitIndex");
      entries = List.copyOf(entries);
      long previous = 0;
      for (Entry e : entries) {
        if (e.slot() <= previous || e.slot() > commitIndex) {
          throw new IllegalArgumentException("CatchupReply entries must be ascending and decided");
        }
        previous = e.slot();
      }
    }
  }

  /** The entries you asked for were compacted into a snapshot through {@code snapshotSlot}. */
  record SnapshotRequired(int from, int to, long snapshotSlot) implements Message {
    public SnapshotRequired {
      requireNode(from, to);
      if (snapshotSlot < 1) {
        throw new IllegalArgumentException("snapshotSlot must be >= 1, got " + snapshotSlot);
      }
    }
  }

  /**
   * A fresh replica asks its peers for their promised ballots (so it never reuses a ballot it
   * forgot) and whether they are founding members with nothing yet, or have a history (cluster
   * bootstrap); it says how far it has caught up.
   */
  record Probe(int from, int to, long nonce, long commitIndex) implements Message {
    public Probe {
      requireNode(from, to);
      requireSlotIndex(commitIndex, "commitIndex");
    }
  }

  /**
   * The answer to the probe with this nonce: the sender's promise; whether it is a founding member
   * (created for a new cluster) that is fresh, knows nothing of the cluster and has heard of no
   * history (it may bootstrap); whether it has a history (a promise above zero, an entry or a
   * commit: the cluster exists, so no one may bootstrap it); and, from an active leader, a slot
   * assigned after this reply was made (0 otherwise): once the prober has learned that slot decided
   * in the leader's ballot it may vote.
   */
  record ProbeReply(int from, int to, long nonce, Ballot promised, boolean foundingWithoutHistory,
      boolean hasHistory, long leaderSlot) implements Message {
    public ProbeReply {
      requireNode(from, to);
      requireBallot(promised);
      requireSlotIndex(leaderSlot, "leaderSlot");
    }
  }

  /**
   * Pre-vote (Raft thesis section 9.6): before it raises its ballot or persists anything, a replica
   * whose election timer expired asks whether the receiver would promise {@code ballot} (the ballot
   * phase 1 would start with) to a candidate whose commit index is {@code commitIndex}.
   */
  record PreVote(int from, int to, Ballot ballot, long commitIndex) implements Message {
    public PreVote {
      requireNode(from, to);
      requireBallot(ballot);
      requireSlotIndex(commitIndex, "commitIndex");
    }
  }

  /**
   * The answer to the pre-vote for {@code ballot}: granted iff the receiver votes, the candidate's
   * commit index is at least its own and it has not heard from a live leader for electionTicksMin.
   * It carries the receiver's promise (so the candidate's phase 1 starts above it) and commit index
   * (so a candidate that is behind catches up from it).
   */
  record PreVoteReply(int from, int to, Ballot ballot, boolean granted, Ballot promised,
      long commitIndex) implements Message {
    public PreVoteReply {
      requireNode(from, to);
      requireBallot(ballot);
      requireBallot(promised);
      requireSlotIndex(commitIndex, "commitIndex");
    }
  }

  /**
   * Leadership transfer: the leader of {@code ballot}, which has stopped proposing and whose every
   * slot the receiver has acknowledged, asks it to start phase 1 at once (no pre-vote, no waiting
   * for its election timer); {@code leaderCommit} lets it learn how far everything is decided.
   */
  record TimeoutNow(int from, int to, Ballot ballot, long leaderCommit) implements Message {
    public TimeoutNow {
      requireNode(from, to);
      requireBallot(ballot);
      requireSlotIndex(leaderCommit, "leaderCommit");
    }
  }

  private static void requireNode(int from, int to) {
    if (from < 0 || to < 0) {
      throw new IllegalArgumentException("node ids must be >= 0, got from=" + from + " to=" + to);
    }
  }

  private static void requireBallot(Ballot ballot) {
    if (ballot == null) {
      throw new IllegalArgumentException("ballot must not be null");
    }
  }

  private static void requireSlotIndex(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, got " + value);
    }
  }
}
