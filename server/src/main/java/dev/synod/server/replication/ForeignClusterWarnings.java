package dev.synod.server.replication;

import dev.synod.server.pipeline.Clock;
import dev.synod.server.storage.ClusterIdentity;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says, at most once a minute per peer, that a peer's messages are dropped because they belong
 * to another cluster (another cluster at that address, or a data directory of another cluster).
 */
final class ForeignClusterWarnings {
  private static final Logger LOG = LoggerFactory.getLogger(ForeignClusterWarnings.class);
  private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final int selfId;
  private final Clock clock;
  /** When we last said it, per peer. */
  private final Map<Integer, Long> warnedAtNanos = new TreeMap<>();

  ForeignClusterWarnings(int selfId, Clock clock) {
    this.selfId = selfId;
    this.clock = clock;
  }

  /** Peer {@code from} sent a message of cluster {@code theirs}; ours is {@code ours} (any thread). */
  void dropped(int from, long theirs, long ours) {
    long now = clock.monoNanos();
    synchronized (warnedAtNanos) {
      Long last = warnedAtNanos.get(from);
      if (last != null && now - last < INTERVAL_NANOS) {
        return;
      }
      warnedAtNanos.put(from, now);
    }
    LOG.atWarn().addKeyValue("server", selfId).addKeyValue("peer", from)
        .log("dropping messages from server " + from + ": it belongs to cluster "
        + ClusterIdentity.text(theirs) + ", this server to cluster " + ClusterIdentity.text(ours)
        + " (another cluster at that address, or a data directory of another cluster)");
  }
}
