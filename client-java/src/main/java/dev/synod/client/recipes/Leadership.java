package dev.synod.client.recipes;

/** The leadership a {@link LeaderSelector} hands to {@link LeaderSelectorListener#takeLeadership}. */
public interface Leadership {
  /** The creation zxid of the leader's node: larger than that of every earlier leader. */
  long fencingToken();

  /** True while the leadership is held (see {@link Lease} for what ends it). */
  boolean isValid();
}
