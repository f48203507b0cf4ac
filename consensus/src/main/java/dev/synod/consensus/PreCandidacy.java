package dev.synod.consensus;

/**
 * A pre-vote in progress (Raft thesis section 9.6): the ballot phase 1 would start with, and who
 * granted it. Nothing about it is durable and nothing it does changes a promise; only a majority
 * of grants, ourselves included, lets the replica raise its ballot and start phase 1.
 */
final class PreCandidacy {
  final Ballot ballot;
  private final ReplicaConfig config;
  private long grantedMask;
  private int resendElapsed;

  PreCandidacy(ReplicaConfig config, Ballot ballot) {
    this.config = config;
    this.ballot = ballot;
  }

  /** Counts a grant; true once a majority (ourselves included) has granted. */
  boolean grant(int memberIndex) {
    grantedMask |= 1L << memberIndex;
    return Long.bitCount(grantedMask) >= config.quorum();
  }

  boolean hasGrantFrom(int memberIndex) {
    return (grantedMask & (1L << memberIndex)) != 0;
  }

  /** True every heartbeat interval: time to ask again those that have not granted (loss). */
  boolean resendDue() {
    if (++resendElapsed >= config.heartbeatTicks()) {
      resendElapsed = 0;
      return true;
    }
    return false;
  }
}
