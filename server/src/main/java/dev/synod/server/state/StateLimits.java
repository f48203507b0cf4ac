package dev.synod.server.state;

/**
 * The limits the state machine enforces. Every replica must run with the same values for the ones
 * that shape replicated state (data, path, dedup window), or their results would diverge.
 *
 * @param dataBytesMax largest node data accepted by create and set_data (VALUE_TOO_LARGE above it)
 * @param pathBytesMax longest path, in UTF-8 bytes (INVALID_PATH above it)
 * @param watchesPerWatcherMax registrations one watcher may hold (TOO_MANY_WATCHES above it)
 * @param childrenPageMax most child names one get_children returns
 * @param recentResultsPerSession the dedup window: results of this many recent writes are kept per
 *     session so a retried request returns its original result
 * @param historyEventsMax change events kept for resuming persistent watches
 * @param historyBytesMax approximate bytes of change events kept for resuming persistent watches
 */
public record StateLimits(
    int dataBytesMax,
    int pathBytesMax,
    int watchesPerWatcherMax,
    int childrenPageMax,
    int recentResultsPerSession,
    int historyEventsMax,
    long historyBytesMax) {

  public StateLimits {
    requirePositive(dataBytesMax, "dataBytesMax");
    requirePositive(pathBytesMax, "pathBytesMax");
    requirePositive(watchesPerWatcherMax, "watchesPerWatcherMax");
    requirePositive(childrenPageMax, "childrenPageMax");
    requirePositive(recentResultsPerSession, "recentResultsPerSession");
    requirePositive(historyEventsMax, "historyEventsMax");
    requirePositive(historyBytesMax, "historyBytesMax");
  }

  public static StateLimits defaults() {
    return new StateLimits(1 << 20, 4096, 100_000, 10_000, 1024, 100_000, 64L << 20);
  }

  public StateLimits withHistory(int eventsMax, long bytesMax) {
    return new StateLimits(dataBytesMax, pathBytesMax, watchesPerWatcherMax, childrenPageMax,
        recentResultsPerSession, eventsMax, bytesMax);
  }

  private static void requirePositive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
