package dev.synod.client;

import dev.synod.api.v1.EventType;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.WatchKind;

/** A one-shot watcher and the node's state when it was set (to notice changes missed while away). */
final class OneShotWatch {
  final Watcher watcher;
  private final boolean existed;
  private final long czxid;
  private final long mzxid;
  private final int cversion;

  OneShotWatch(Watcher watcher, boolean existed, Stat stat) {
    this.watcher = watcher;
    this.existed = existed;
    this.czxid = existed ? stat.getCzxid() : 0;
    this.mzxid = existed ? stat.getMzxid() : 0;
    this.cversion = existed ? stat.getCversion() : 0;
  }

  /** The event this watch would have fired for the change from then to now, or null. */
  EventType changeTo(WatchKind kind, boolean exists, Stat now) {
    if (!existed) {
      return exists ? EventType.NODE_CREATED : null;
    }
    if (!exists) {
      return EventType.NODE_DELETED;
    }
    if (now.getCzxid() != czxid) {
      // Deleted and re-created while away: the delete is what the watch would have seen.
      return EventType.NODE_DELETED;
    }
    if (kind == WatchKind.WATCH_CHILDREN) {
      return now.getCversion() != cversion ? EventType.NODE_CHILDREN_CHANGED : null;
    }
    return now.getMzxid() != mzxid ? EventType.NODE_DATA_CHANGED : null;
  }
}
