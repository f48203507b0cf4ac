package dev.synod.consensus;

/**
 * A pre-vote in progress (Raft thesis section 9.6): the ballot phase 1 would start with, and who
 * granted it. Nothing about it is durable and nothing it does changes a promise; only a majority
 * of grants from the voters of the latest membership, ourselves included, lets the replica raise
 * its ballot and start phase 1.
 */
final class PreCandidacy {
  final Ballot ballot;
  private final ReplicaConfig config;
  private final Configs configs;
  /** Bit {@code id} set for every member that granted. */
  private long grantedMask;
  private int resendElapsed;

  PreCandidacy(ReplicaConfig config, Configs configs, Ballot ballot) {
    this.config = config;
    this.configs = configs;
    this.ballot = ballot;
  }

  /** Counts a grant; true once a majority of the voters (ourselves included) has granted. */
  boolean grant(int memberId) {
    grantedMask |= 1L << memberId;
    return configs.latest().isQuorum(grantedMask);
  }

  boolean hasGrantFrom(int memberId) {
    return (grantedMask & (1L << memberId)) != 0;
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
