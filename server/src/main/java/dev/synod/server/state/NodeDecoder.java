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
 * their neighbour's): nodes with equal ACLs get one list, which the tree's {@link AclTable} then
 * counts. Not thread-safe; one decoder per load, on whichever thread decodes.
 *
 * <p>Field numbers are those of txn.proto's NodeRecord and synod.proto's Stat; a field this
 * version does not know is skipped, as protobuf's own parser would.
 */
final class NodeDecoder {
  private static final int DATA = 1;
  private static final int STAT = 2;
  private static final int ACL = 3;
  private static final int QUOTA = 4;

  /** The ACLs seen so far in this load by their serialized form. */
  private final Map<ByteString, List<Acl>> aclsByBytes = new HashMap<>();
  /** The same lists by value: one list per distinct ACL, however it was serialized. */
  private final Map<List<Acl>, List<Acl>> aclsByValue = new HashMap<>();
  /**
   * Reused for every record (and its stat): a cold JVM does not yet remove the allocation of a
   * reader per record, which was 35 MB of garbage per million nodes.
   */
  private final Reader record = new Reader();
  /** Where the values go: see {@link ValueArena} for why not an array each. */
  private final ValueArena values = new ValueArena();
  private final Reader stat = new Reader();
  private byte[] lastAclBytes = new byte[0];
  private List<Acl> lastAcl;

  NodeDecoder() {}

  /** The one list of this load equal to {@code acl}. */
  private List<Acl> intern(List<Acl> acl) {
    return aclsByValue.computeIfAbsent(acl, List::copyOf);
  }

  /**
   * The node named {@code name} (in {@link NodeNames}' compact form, which the node keeps) under
   * {@code parentPath} (as {@link DecodedNodes.Sink} has it: null for the root), whose record is
   * {@code length} bytes of {@code bytes} from {@code offset}.
   *
   * @throws IllegalArgumentException if the record does not parse or names an unknown kind
   */
  Node decode(String parentPath, Object name, byte[] bytes, int offset, int length) {
    try {
      return decodeOrThrow(parentPath, name, bytes, offset, length);
    } catch (IOException e) {
      throw new IllegalArgumentException("snapshot record of node "
          + DecodedNodes.pathOf(parentPath, name) + " does not parse: " + e.getMessage(), e);
    }
  }

  private Node decodeOrThrow(String parentPath, Object name, byte[] bytes, int offset,
      int length) throws IOException {
    Reader in = record.reset(bytes, offset, offset + length);
    byte[] dataBytes = bytes;
    int dataFrom = 0;
    int dataLength = 0;
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
    while (in.more()) {
      int before = in.at;
      int tag = in.varint32();
      if (tag == 0) {
        throw new IOException("invalid tag 0");
      }
      int field = tag >>> 3;
      if (field == ACL && (tag & 7) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        if (aclStart < 0) {
          aclStart = before;
        } else if (aclEnd != before) {
          aclSplit = true; // not one run of entries (protobuf writes them as one)
        }
        in.skip(tag);
        aclEnd = in.at;
        continue;
      }
      if ((tag & 7) != WireFormat.WIRETYPE_LENGTH_DELIMITED
          || (field != DATA && field != STAT && field != QUOTA)) {
        in.skip(tag);
        continue;
      }
      int size = in.length();
      int from = in.at;
      in.at += size;
      switch (field) {
        case DATA -> {
          dataBytes = bytes;
          dataFrom = from;
          dataLength = size; // copied once the record is known to parse
        }
        case QUOTA -> quota = Quota.parseFrom(CodedInputStream.newInstance(bytes, from, size));
        default -> { // STAT
          Reader stat = this.stat.reset(bytes, from, from + size);
          while (stat.more()) {
            int statTag = stat.varint32();
            if (statTag == 0) {
              throw new IOException("invalid tag 0 in the stat");
            }
            switch (statTag) {
              case (1 << 3) -> czxid = stat.varint64();
              case (2 << 3) -> mzxid = stat.varint64();
              case (3 << 3) -> pzxid = stat.varint64();
              case (4 << 3) -> ctimeMs = stat.varint64();
              case (5 << 3) -> mtimeMs = stat.varint64();
              case (6 << 3) -> version = (int) stat.varint64();
              case (7 << 3) -> cversion = (int) stat.varint64();
              case (8 << 3) -> aversion = (int) stat.varint64();
              case (9 << 3) -> ephemeralOwner = stat.varint64();
              case (11 << 3) -> numChildren = (int) stat.varint64();
              case (12 << 3) -> kind = (int) stat.varint64();
              case (13 << 3) -> ttlMs = stat.varint64();
              default -> stat.skip(statTag); // data_length is the value's; unknown fields
            }
          }
        }
      }
    }
    NodeKind nodeKind = NodeKind.forNumber(kind);
    if (nodeKind == null) {
      throw new IllegalArgumentException("snapshot node " + DecodedNodes.pathOf(parentPath, name)
          + " has unknown kind " + kind);
    }
    List<Acl> acl = aclSplit
        ? intern(NodeRecord.parseFrom(
            CodedInputStream.newInstance(bytes, offset, length)).getAclList())
        : acl(bytes, Math.max(aclStart, offset), Math.max(aclEnd - aclStart, 0));
    values.copy(dataBytes, dataFrom, dataLength);
    return new Node(name, czxid, mzxid, pzxid, ctimeMs, mtimeMs, ephemeralOwner, ttlMs,
        version, cversion, aversion, numChildren, nodeKind, values.array, values.offset,
        dataLength, acl, quota);
  }

  /**
   * Protobuf's wire format over {@code bytes[at, end)}: just what a NodeRecord needs, without the
   * objects and indirection of a CodedInputStream per record (a million of them on a restart).
   */
  private static final class Reader {
    private byte[] bytes;
    private int end;
    int at;

    /** Points this reader at {@code bytes[at, end)}: one reader serves every record. */
    Reader reset(byte[] bytes, int at, int end) {
      this.bytes = bytes;
      this.at = at;
      this.end = end;
      return this;
    }

    boolean more() {
      return at < end;
    }

    long varint64() throws IOException {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (at >= end) {
          throw new IOException("truncated varint");
        }
        byte b = bytes[at++];
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new IOException("malformed varint");
    }

    int varint32() throws IOException {
      return (int) varint64();
    }

    /** A length prefix, checked against what is left. */
    int length() throws IOException {
      long size = varint64();
      if (size < 0 || size > end - at) {
        throw new IOException("length " + size + " runs past the record's end");
      }
      return (int) size;
    }

    /** Skips the value of a field whose tag was just read. */
    void skip(int tag) throws IOException {
      switch (tag & 7) {
        case WireFormat.WIRETYPE_VARINT -> varint64();
        case WireFormat.WIRETYPE_FIXED64 -> advance(8);
        case WireFormat.WIRETYPE_LENGTH_DELIMITED -> advance(length());
        case WireFormat.WIRETYPE_FIXED32 -> advance(4);
        default -> throw new IOException("unsupported wire type " + (tag & 7) + " in tag " + tag);
      }
    }

    private void advance(int n) throws IOException {
      if (n > end - at) {
        throw new IOException("field runs past the record's end");
      }
      at += n;
    }
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
      acl = intern(entries);
      aclsByBytes.put(key, acl);
    }
    lastAclBytes = Arrays.copyOfRange(bytes, at, at + length);
    lastAcl = acl;
    return acl;
  }
}
