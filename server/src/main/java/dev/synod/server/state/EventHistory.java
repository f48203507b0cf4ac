package dev.synod.server.state;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The recent change events, kept so a persistent watch can resume from a zxid without a gap. Bounded
 * by count and by approximate bytes; the oldest events go first.
 *
 * <p>The floor is the promise: every change with zxid &gt; floor is retained. It starts at 0 (or at
 * the snapshot's zxid after a restore, since the changes before it were never seen) and rises to
 * the zxid of each evicted event.
 *
 * <p>Not thread-safe: appended under the state machine's write lock, read under its read lock.
 */
final class EventHistory {
  private final int eventsMax;
  private final long bytesMax;
  /** Live events are {@code events[head..]}, in zxid order; the dead prefix is compacted away. */
  private final List<Change> events = new ArrayList<>();
  private int head;
  private long bytes;
  private long floor;

  EventHistory(int eventsMax, long bytesMax) {
    this.eventsMax = eventsMax;
    this.bytesMax = bytesMax;
  }

  long floor() {
    return floor;
  }

  int size() {
    return events.size() - head;
  }

  long bytes() {
    return bytes;
  }

  /** Forgets every event; changes up to {@code newFloor} are now unknown. */
  void reset(long newFloor) {
    events.clear();
    head = 0;
    bytes = 0;
    floor = newFloor;
  }

  void record(Change change) {
    events.add(change);
    bytes += change.retainedBytes();
    while (size() > eventsMax || (bytes > bytesMax && size() > 0)) {
      Change evicted = events.set(head++, null);
      bytes -= evicted.retainedBytes();
      floor = Math.max(floor, evicted.zxid());
    }
    if (head > 1024 && head > events.size() / 2) {
      events.subList(0, head).clear();
      head = 0;
    }
  }

  /** Calls {@code action} for every retained event with zxid &gt; {@code zxid}, oldest first. */
  void forEachAfter(long zxid, Consumer<Change> action) {
    int low = head;
    int high = events.size();
    while (low < high) { // first index whose zxid > zxid
      int mid = (low + high) >>> 1;
      if (events.get(mid).zxid() <= zxid) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    for (int i = low; i < events.size(); i++) {
      action.accept(events.get(i));
    }
  }
}
