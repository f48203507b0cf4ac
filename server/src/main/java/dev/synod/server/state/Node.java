package dev.synod.server.state;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.NodeRecord;
import java.util.List;

/**
 * One znode as the tree holds it: primitive stat fields, the value as a plain array, the ACL as a
 * shared (interned) list, and its name, not its path: the path is where it hangs in the tree. The
 * name is a Latin-1 byte array where it can be ({@link NodeNames}), not a String: one object less
 * per node. A million of these must fit in a few hundred MiB, so nothing is stored twice; the
 * protobuf {@link Stat} and {@link NodeRecord} are built only at the edge (an answer, an event, a
 * snapshot).
 *
 * <p>Immutable, except for {@link #children}, which only the {@link DataTree} touches and which
 * moves from a node to the node that replaces it: a change makes a new Node (with*), so a Node
 * seen by a snapshot capture, an event or the undo log never changes under it.
 */
final class Node {
  private static final byte[] NO_DATA = new byte[0];

  /**
   * The name in {@link NodeNames}' compact form: Latin-1 bytes, or a String if a char is above
   * 255. Compared in place ({@link NodeNames#compare}); {@link #name()} makes a String of it.
   */
  private final Object name;
  final long czxid;
  final long mzxid;
  final long pzxid;
  final long ctimeMs;
  final long mtimeMs;
  final long ephemeralOwner;
  final long ttlMs;
  final int version;
  final int cversion;
  final int aversion;
  final int numChildren;
  /**
   * The kind's number in the low 8 bits, the value's offset in {@link #data} above them: one int
   * where a byte and an int would make every node 8 bytes larger (object sizes go by 8).
   */
  private final int kindAndDataOffset;
  /**
   * The value: {@code dataLength} bytes of {@code data} from {@code dataOffset}. Never written to:
   * it is handed out wrapped, without a copy. A node made by a write owns its array; a node
   * restored from a snapshot shares a block with its neighbours' values ({@link ValueArena}).
   */
  private final byte[] data;
  private final int dataLength;
  /** Interned by the tree: nodes with equal ACLs share one list. */
  final List<Acl> acl;
  /** Null when the node has no quota (almost all of them). */
  final Quota quota;
  /** Null when the node has no children. Owned by the tree. */
  Children children;

  /**
   * A node named {@code name}: a String, or a name in {@link NodeNames}' compact form (as a
   * snapshot's decoder makes it); a String is stored compactly where it can be.
   */
  Node(Object name, long czxid, long mzxid, long pzxid, long ctimeMs, long mtimeMs,
      long ephemeralOwner, long ttlMs, int version, int cversion, int aversion, int numChildren,
      NodeKind kind, byte[] data, List<Acl> acl, Quota quota) {
    this(name, czxid, mzxid, pzxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs, version, cversion,
        aversion, numChildren, kind, data, 0, data.length, acl, quota);
  }

  /** As above, the value being {@code dataLength} bytes of {@code data} from {@code dataOffset}. */
  Node(Object name, long czxid, long mzxid, long pzxid, long ctimeMs, long mtimeMs,
      long ephemeralOwner, long ttlMs, int version, int cversion, int aversion, int numChildren,
      NodeKind kind, byte[] data, int dataOffset, int dataLength, List<Acl> acl, Quota quota) {
    this.name = NodeNames.compact(name);
    this.czxid = czxid;
    this.mzxid = mzxid;
    this.pzxid = pzxid;
    this.ctimeMs = ctimeMs;
    this.mtimeMs = mtimeMs;
    this.ephemeralOwner = ephemeralOwner;
    this.ttlMs = ttlMs;
    this.version = version;
    this.cversion = cversion;
    this.aversion = aversion;
    this.numChildren = numChildren;
    if (kind.getNumber() >>> 8 != 0 || dataOffset >>> 24 != 0) {
      throw new IllegalArgumentException("kind " + kind + " or value offset " + dataOffset
          + " does not fit a node");
    }
    this.data = dataLength == 0 ? NO_DATA : data;
    this.kindAndDataOffset = kind.getNumber() | (dataLength == 0 ? 0 : dataOffset << 8);
    this.dataLength = dataLength;
    this.acl = acl;
    this.quota = quota;
  }

  /** The name, as a String made for the caller (the node does not keep one). */
  String name() {
    return NodeNames.toString(name);
  }

  /** The name in {@link NodeNames}' compact form: for comparing and joining, never to change. */
  Object compactName() {
    return name;
  }

  /**
   * The sign of {@code name().compareTo(key.substring(from, to))}, without making either String:
   * how a path is looked up, one segment at a time.
   */
  int compareName(String key, int from, int to) {
    return NodeNames.compare(name, key, from, to);
  }

  /** The sign of {@code name().compareTo(other.name())}, without making either String. */
  int compareName(Node other) {
    return NodeNames.compare(name, other.name);
  }

  /** The path of this node under {@code parentPath}: one String, without one for the name. */
  String pathUnder(String parentPath) {
    return NodeNames.join(parentPath, name);
  }

  NodeKind kind() {
    // Never null: the constructor took a known kind's number.
    return NodeKind.forNumber(kindAndDataOffset & 0xff);
  }

  private int dataOffset() {
    return kindAndDataOffset >>> 8;
  }

  int dataLength() {
    return dataLength;
  }

  /** The value, wrapped without a copy. */
  ByteString data() {
    if (dataLength == 0) {
      return ByteString.EMPTY;
    }
    // A node's own array (every node a write made) is wrapped whole, as before restored values
    // shared blocks: the plainest ByteString there is.
    return dataLength == data.length
        ? UnsafeByteOperations.unsafeWrap(data)
        : UnsafeByteOperations.unsafeWrap(data, dataOffset(), dataLength);
  }

  boolean hasQuota() {
    return quota != null;
  }

  /** The node's quota, or the default (no limits) when it has none. */
  Quota quotaOrDefault() {
    return quota == null ? Quota.getDefaultInstance() : quota;
  }

  Stat stat() {
    return Stat.newBuilder()
        .setCzxid(czxid).setMzxid(mzxid).setPzxid(pzxid)
        .setCtimeMs(ctimeMs).setMtimeMs(mtimeMs)
        .setVersion(version).setCversion(cversion).setAversion(aversion)
        .setEphemeralOwner(ephemeralOwner)
        .setDataLength(dataLength)
        .setNumChildren(numChildren)
        .setKind(kind())
        .setTtlMs(ttlMs)
        .build();
  }

  /** The node as a snapshot or backup stores it. */
  NodeRecord toRecord() {
    NodeRecord.Builder record =
        NodeRecord.newBuilder().setData(data()).setStat(stat()).addAllAcl(acl);
    if (quota != null) {
      record.setQuota(quota);
    }
    return record.build();
  }

  /** This node after a change of its data at {@code zxid}, {@code timeMs}. */
  Node withData(byte[] newData, long zxid, long timeMs) {
    return new Node(name, czxid, zxid, pzxid, ctimeMs, timeMs, ephemeralOwner, ttlMs,
        version + 1, cversion, aversion, numChildren, kind(), newData, 0, newData.length, acl,
        quota);
  }

  /** This node after a child was added (+1) or removed (-1) at {@code zxid}. */
  Node withChildDelta(int delta, long zxid) {
    return new Node(name, czxid, mzxid, zxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs,
        version, cversion + 1, aversion, numChildren + delta, kind(), data, dataOffset(),
        dataLength, acl, quota);
  }

  /** This node with a new ACL (interned), its aversion one up. */
  Node withAcl(List<Acl> newAcl) {
    return new Node(name, czxid, mzxid, pzxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs,
        version, cversion, aversion + 1, numChildren, kind(), data, dataOffset(), dataLength,
        newAcl, quota);
  }

  /** This node with {@code newQuota} (null: none); no stat changes (ZooKeeper's quotas neither). */
  Node withQuota(Quota newQuota) {
    return new Node(name, czxid, mzxid, pzxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs,
        version, cversion, aversion, numChildren, kind(), data, dataOffset(), dataLength, acl,
        newQuota);
  }
}
