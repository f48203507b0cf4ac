package dev.synod.server.state;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchTarget;
import java.util.List;

/**
 * One change a Txn made to the tree, as watches and the event history see it.
 *
 * @param after the node as it was right after this change, or null when the change deleted it
 * @param acl the ACL of the node the event names (after the change; for a delete, as it was), so
 *     persistent watches deliver the event only to watchers who may read that node
 */
record Change(EventType type, String path, long zxid, Node after, List<Acl> acl) {

  Change(EventType type, String path, long zxid, Node after) {
    this(type, path, zxid, after, after.acl);
  }

  /** The event a watcher receives for this change; data only when asked for and the node exists. */
  WatchEvent toWatchEvent(boolean includeData, Iterable<WatchTarget> fired) {
    WatchEvent.Builder event = WatchEvent.newBuilder().setType(type).setPath(path).setZxid(zxid);
    if (after != null) {
      event.setStat(after.stat());
      if (includeData) {
        event.setData(after.data()).setHasData(true);
      }
    }
    return event.addAllFired(fired).build();
  }

  /** What keeping this change in the event history costs, roughly, in bytes. */
  long retainedBytes() {
    return 96L + 2L * path.length() + (after == null ? 0 : after.dataLength());
  }
}
