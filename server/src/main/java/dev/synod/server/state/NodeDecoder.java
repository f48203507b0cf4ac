package dev.synod.server.state;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Quota;
import dev.synod.txn.v1.NodeRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes serialized {@link NodeRecord}s of a snapshot straight into {@link Node}s, for loading a
 * million of them: no NodeRecord, Stat, ByteString or Acl objects per node, one copy of the value.
 * An ACL is parsed once per distinct serialized form and then shared (most nodes of a tree repeat
 * their neighbour's), interned in the tree's {@link AclTable}.
 *
 * <p>Field numbers are those of txn.proto's NodeRecord and synod.proto's Stat; a field this
 * version does not know is skipped, as protobuf's own parser would.
 */
final class NodeDecoder {
  private static final int DATA = 1;
  private static final int STAT = 2;
  private static final int ACL = 3;
  private static final int QUOTA = 4;

  private final DataTree tree;
  /** The ACLs seen so far in this load by their serialized form. */
  private final Map<ByteString, List<Acl>> aclsByBytes = new HashMap<>();
  private byte[] lastAclBytes = new byte[0];
  private List<Acl> lastAcl;

  NodeDecoder(DataTree tree) {
    this.tree = tree;
  }

  /**
   * The node named {@code name} whose record is {@code length} bytes of {@code bytes} from
   * {@code offset}.
   *
   * @throws IllegalArgumentException if the record does not parse or names an unknown kind
   */
  Node decode(String name, byte[] bytes, int offset, int length) {
    try {
      return decodeOrThrow(name, bytes, offset, length);
    } catch (IOException e) {
      throw new IllegalArgumentException("snapshot record of node " + name + " does not parse: "
          + e.getMessage(), e);
    }
  }

  private Node decodeOrThrow(String name, byte[] bytes, int offset, int length)
      throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(bytes, offset, length);
    byte[] data = new byte[0];
    long czxid = 0;
    long mzxid = 0;
    long pzxid = 0;
    long ctimeMs = 0;
    long mtimeMs = 0;
    long ephemeralOwner = 0;
    long ttlMs = 0;
    int version = 0;
    int cversion = 0;
    int aversion = 0;
    int numChildren = 0;
    int kind = 0;
    Quota quota = null;
    int aclStart = -1;
    int aclEnd = -1;
    boolean aclSplit = false;
    while (true) {
      int before = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      int field = WireFormat.getTagFieldNumber(tag);
      if (field == ACL && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        if (aclStart < 0) {
          aclStart = before;
        } else if (aclEnd != before) {
          aclSplit = true; // not one run of entries (protobuf writes them as one)
        }
        in.skipField(tag);
        aclEnd = in.getTotalBytesRead();
        continue;
      }
      if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED
          || (field != DATA && field != STAT && field != QUOTA)) {
        in.skipField(tag);
        continue;
      }
      switch (field) {
        case DATA -> data = in.readByteArray();
        case QUOTA -> quota = Quota.parseFrom(in.readBytes());
        default -> { // STAT
          int limit = in.pushLimit(in.readRawVarint32());
          while (true) {
            int statTag = in.readTag();
            if (statTag == 0) {
              break;
            }
            switch (statTag) {
              case (1 << 3) -> czxid = in.readUInt64();
              case (2 << 3) -> mzxid = in.readUInt64();
              case (3 << 3) -> pzxid = in.readUInt64();
              case (4 << 3) -> ctimeMs = in.readInt64();
              case (5 << 3) -> mtimeMs = in.readInt64();
              case (6 << 3) -> version = in.readInt32();
              case (7 << 3) -> cversion = in.readInt32();
              case (8 << 3) -> aversion = in.readInt32();
              case (9 << 3) -> ephemeralOwner = in.readUInt64();
              case (11 << 3) -> numChildren = in.readInt32();
              case (12 << 3) -> kind = in.readEnum();
              case (13 << 3) -> ttlMs = in.readInt64();
              default -> in.skipField(statTag); // data_length is the value's; unknown fields
            }
          }
          in.popLimit(limit);
        }
      }
    }
    NodeKind nodeKind = NodeKind.forNumber(kind);
    if (nodeKind == null) {
      throw new IllegalArgumentException("snapshot node " + name + " has unknown kind " + kind);
    }
    List<Acl> acl = aclSplit
        ? tree.internAcl(NodeRecord.parseFrom(
            CodedInputStream.newInstance(bytes, offset, length)).getAclList())
        : acl(bytes, offset + Math.max(aclStart, 0), Math.max(aclEnd - aclStart, 0));
    return new Node(name, czxid, mzxid, pzxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs,
        version, cversion, aversion, numChildren, nodeKind, data, acl, quota);
  }

  /** The interned ACL whose entries (tags included) are {@code length} bytes from {@code at}. */
  private List<Acl> acl(byte[] bytes, int at, int length) throws IOException {
    if (lastAcl != null
        && Arrays.equals(lastAclBytes, 0, lastAclBytes.length, bytes, at, at + length)) {
      return lastAcl;
    }
    ByteString key = ByteString.copyFrom(bytes, at, length);
    List<Acl> acl = aclsByBytes.get(key);
    if (acl == null) {
      List<Acl> entries = new ArrayList<>();
      CodedInputStream in = CodedInputStream.newInstance(bytes, at, length);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        entries.add(Acl.parseFrom(in.readBytes()));
      }
      acl = tree.internAcl(entries);
      aclsByBytes.put(key, acl);
    }
    lastAclBytes = Arrays.copyOfRange(bytes, at, at + length);
    lastAcl = acl;
    return acl;
  }
}
