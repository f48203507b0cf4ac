package dev.synod.consensus;

/**
 * A Paxos ballot: a round number made unique by the proposing node's id. Ballots are totally
 * ordered by round, then node, so two candidates never share one.
 */
public record Ballot(long round, int node) implements Comparable<Ballot> {
  /** Below every ballot a candidate can use (candidates start at round 1). */
  public static final Ballot ZERO = new Ballot(0, 0);

  public Ballot {
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    if (node < 0) {
      throw new IllegalArgumentException("node must be >= 0, got " + node);
    }
  }

  @Override
  public int compareTo(Ballot other) {
    int byRound = Long.compare(round, other.round);
    return byRound != 0 ? byRound : Integer.compare(node, other.node);
  }

  public boolean isAbove(Ballot other) {
    return compareTo(other) > 0;
  }

  public boolean isBelow(Ballot other) {
    return compareTo(other) < 0;
  }

  public static Ballot max(Ballot a, Ballot b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return round + "." + node;
  }
}
