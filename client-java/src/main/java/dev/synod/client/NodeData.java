package dev.synod.client;

import dev.synod.api.v1.Stat;

/**
 * A node's value and stat, and the zxid of the server state the read saw ({@code zxid}: no change
 * with a larger zxid is reflected in this answer, every change up to it is). Caches use it to tell
 * which watch events are newer than what they read.
 */
public record NodeData(byte[] data, Stat stat, long zxid) {
  /** Without the read's zxid (0). */
  public NodeData(byte[] data, Stat stat) {
    this(data, stat, 0);
  }
}
