package dev.synod.server.state;

/**
 * Limits on this server's local, unreplicated state: watches, read pages and the event history.
 * They never change what apply decides, so members may differ. (What apply itself enforces is in
 * {@link ReplicatedLimits}; per-request limits are the entry server's, checked before the log.)
 *
 * @param watchesPerWatcherMax registrations one watcher may hold (TOO_MANY_WATCHES above it)
 * @param childrenPageMax most child names one get_children returns
 * @param historyEventsMax change events kept for resuming persistent watches
 * @param historyBytesMax approximate bytes of change events kept for resuming persistent watches
 */
public record StateLimits(
    int watchesPerWatcherMax,
    int childrenPageMax,
    int historyEventsMax,
    long historyBytesMax) {

  /**
   * Bytes of child names (as encoded) one GetChildren page may hold, besides the count limit. A
   * page of 10,000 names of 4 KB each would be 40 MB, ten times the 4 MiB a gRPC client accepts by
   * default; at 1 MiB a page fits whatever the names' lengths (a page holds at least one name, and a
   * name is at most path-bytes-max, which request-bytes-max bounds).
   */
  public static final int CHILDREN_PAGE_BYTES_MAX = 1 << 20;

  public StateLimits {
    requirePositive(watchesPerWatcherMax, "watchesPerWatcherMax");
    requirePositive(childrenPageMax, "childrenPageMax");
    requirePositive(historyEventsMax, "historyEventsMax");
    requirePositive(historyBytesMax, "historyBytesMax");
  }

  public static StateLimits defaults() {
    return new StateLimits(100_000, 10_000, 100_000, 64L << 20);
  }

  public StateLimits withHistory(int eventsMax, long bytesMax) {
    return new StateLimits(watchesPerWatcherMax, childrenPageMax, eventsMax, bytesMax);
  }

  private static void requirePositive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
