package dev.synod.server.state;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.QuotaUsage;
import java.util.Iterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Subtree quotas. A quota is part of its node ({@code Node.quota}, replicated and in
 * snapshots); the usage of each subtree that has one (nodes and data bytes, the node itself
 * included) is kept here, updated incrementally by every insert, replace and remove the
 * {@link DataTree} makes, rollbacks included (they are inverse stores). Loading a snapshot
 * inserts parents before children, which counts every subtree from scratch. With no quota set
 * this costs one emptiness test per change.
 *
 * <p>Checks read only the tree (limits are in the nodes), so apply decides alike everywhere.
 * Not thread-safe: the state machine's lock guards it, as it guards the tree.
 */
final class Quotas {
  /** Usage of one subtree. */
  static final class Usage {
    long count;
    long bytes;

    QuotaUsage toProto() {
      return QuotaUsage.newBuilder().setCount(count).setBytes(bytes).build();
    }
  }

  private final DataTree tree;
  /** Usage by path of every node that has a quota; sorted, so reports list them in path order. */
  private final NavigableMap<String, Usage> usage = new TreeMap<>();

  Quotas(DataTree tree) {
    this.tree = tree;
  }

  /** The usage of the subtree at {@code path}, or null when that node has no quota. */
  Usage usage(String path) {
    return usage.get(path);
  }

  /** QUOTA_EXCEEDED if creating a node at {@code path} with {@code dataBytes} breaks a hard limit. */
  void checkCreate(String path, long dataBytes) throws SynodException {
    if (usage.isEmpty()) {
      return;
    }
    for (String p = Paths.parent(path); p != null; p = up(p)) {
      Usage u = usage.get(p);
      if (u == null) {
        continue;
      }
      Quota q = tree.get(p).quotaOrDefault();
      if (q.getCountHard() > 0 && u.count + 1 > q.getCountHard()) {
        throw exceeded(p, "node count", u.count + 1, q.getCountHard(), path);
      }
      if (q.getBytesHard() > 0 && u.bytes + dataBytes > q.getBytesHard()) {
        throw exceeded(p, "data bytes", u.bytes + dataBytes, q.getBytesHard(), path);
      }
    }
  }

  /** QUOTA_EXCEEDED if changing {@code path}'s data by {@code deltaBytes} breaks a hard limit. */
  void checkSetData(String path, long deltaBytes) throws SynodException {
    if (usage.isEmpty() || deltaBytes <= 0) {
      return;
    }
    for (String p = path; p != null; p = up(p)) {
      Usage u = usage.get(p);
      if (u == null) {
        continue;
      }
      Quota q = tree.get(p).quotaOrDefault();
      if (q.getBytesHard() > 0 && u.bytes + deltaBytes > q.getBytesHard()) {
        throw exceeded(p, "data bytes", u.bytes + deltaBytes, q.getBytesHard(), path);
      }
    }
  }

  private static SynodException exceeded(String quotaPath, String what, long wouldBe, long limit,
      String path) {
    return new SynodException(ErrorReason.QUOTA_EXCEEDED, "the quota of " + quotaPath + " allows "
        + limit + " " + what + "; this write would make it " + wouldBe, path);
  }

  /** Subtrees over a soft limit, in path order: "path: count N > soft M". */
  List<String> warnings() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Usage> e : usage.entrySet()) {
      Quota q = tree.get(e.getKey()).quotaOrDefault();
      Usage u = e.getValue();
      if (q.getCountSoft() > 0 && u.count > q.getCountSoft()) {
        out.add(e.getKey() + ": count " + u.count + " > soft " + q.getCountSoft());
      }
      if (q.getBytesSoft() > 0 && u.bytes > q.getBytesSoft()) {
        out.add(e.getKey() + ": bytes " + u.bytes + " > soft " + q.getBytesSoft());
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Kept up to date by the tree (after the node map has changed)

  /**
   * Whether {@link #inserted} has anything to do for {@code record}: a restore makes a node's
   * path only if so.
   */
  boolean tracksInsertOf(Node record) {
    return record.hasQuota() || !usage.isEmpty();
  }

  void inserted(String path, Node record) {
    if (record.hasQuota()) {
      usage.put(path, new Usage());
    }
    if (!usage.isEmpty()) {
      adjust(path, 1, record.dataLength());
    }
  }

  void replaced(String path, Node previous, Node record) {
    long delta = (long) record.dataLength() - previous.dataLength();
    boolean had = previous.hasQuota();
    if (record.hasQuota() && !had) {
      usage.put(path, count(path)); // already holds the new data
      if (delta != 0 && !Paths.ROOT.equals(path)) {
        adjust(Paths.parent(path), 0, delta);
      }
      return;
    }
    if (!record.hasQuota() && had) {
      usage.remove(path);
      if (delta != 0 && !Paths.ROOT.equals(path)) {
        adjust(Paths.parent(path), 0, delta);
      }
      return;
    }
    if (delta != 0 && !usage.isEmpty()) {
      adjust(path, 0, delta);
    }
  }

  void removed(String path, Node previous) {
    if (usage.isEmpty()) {
      return;
    }
    usage.remove(path); // its own subtree is gone (it had no children left)
    if (!Paths.ROOT.equals(path)) {
      adjust(Paths.parent(path), -1, -previous.dataLength());
    }
  }

  void clear() {
    usage.clear();
  }

  private void adjust(String from, long count, long bytes) {
    for (String p = from; p != null; p = up(p)) {
      Usage u = usage.get(p);
      if (u != null) {
        boolean wasOver = overSoft(p, u);
        u.count += count;
        u.bytes += bytes;
        if (!wasOver && overSoft(p, u)) {
          // A report, not a refusal: every member logs it when its apply crosses the limit.
          org.slf4j.LoggerFactory.getLogger(Quotas.class).warn("quota: {} is over its soft limit ({} nodes, {} bytes)",
              p, u.count, u.bytes);
        }
      }
    }
  }

  private boolean overSoft(String path, Usage u) {
    Quota q = tree.get(path).quotaOrDefault();
    return (q.getCountSoft() > 0 && u.count > q.getCountSoft())
        || (q.getBytesSoft() > 0 && u.bytes > q.getBytesSoft());
  }

  /** Counts a subtree (when a quota is set on a node that has none yet). */
  private Usage count(String path) {
    Usage u = new Usage();
    List<String> stack = new ArrayList<>(List.of(path));
    while (!stack.isEmpty()) {
      String p = stack.remove(stack.size() - 1);
      u.count++;
      Node node = tree.get(p);
      u.bytes += node.dataLength();
      for (Iterator<Node> it = tree.children(node, null); it.hasNext(); ) {
        stack.add(it.next().pathUnder(p));
      }
    }
    return u;
  }

  private static String up(String path) {
    return Paths.ROOT.equals(path) ? null : Paths.parent(path);
  }
}
