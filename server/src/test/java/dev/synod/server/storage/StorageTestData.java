package dev.synod.server.storage;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.CachedResult;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/** Txns, snapshots and file damage for the storage tests. */
final class StorageTestData {
  private StorageTestData() {}

  /** A set_data Txn whose size varies with the zxid, so records are not all alike. */
  static Txn txn(long zxid) {
    return Txn.newBuilder()
        .setZxid(zxid)
        .setTimeMs(1_700_000_000_000L + zxid)
        .setSessionId(zxid % 7)
        .setRequestNo(zxid)
        .setSetData(
            SetDataRequest.newBuilder()
                .setPath("/app/node-" + (zxid % 13))
                .setData(ByteString.copyFromUtf8("value-" + "x".repeat((int) (zxid % 17)))))
        .build();
  }

  /** Txns for zxids {@code first..last}, inclusive. */
  static List<Txn> txns(long first, long last) {
    List<Txn> txns = new ArrayList<>();
    for (long zxid = first; zxid <= last; zxid++) {
      txns.add(txn(zxid));
    }
    return txns;
  }

  /** Everything {@code log} replays after {@code afterZxid}. */
  static List<Txn> replayed(TxnLog log, long afterZxid) throws IOException {
    List<Txn> out = new ArrayList<>();
    log.replay(afterZxid, out::add);
    return out;
  }

  static Snapshot snapshot(long zxid, int nodeCount, int sessionCount) {
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    nodes.put("/", NodeRecord.getDefaultInstance());
    for (int i = 1; i < nodeCount; i++) {
      String path = "/app/" + (i % 50) + "/n-" + i;
      nodes.put(
          path,
          NodeRecord.newBuilder()
              .setData(
                  ByteString.copyFrom(("data " + i + " @" + zxid).getBytes(StandardCharsets.UTF_8)))
              .setStat(
                  Stat.newBuilder().setCzxid(i).setMzxid(zxid).setVersion(i % 5).setDataLength(9))
              .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31))
              .build());
    }
    List<SessionRecord> sessions = new ArrayList<>();
    for (int i = 1; i <= sessionCount; i++) {
      sessions.add(
          SessionRecord.newBuilder()
              .setSessionId(1000L + i)
              .setSecret(0x5EC2E7L * i)
              .setTimeoutMs(10_000)
              .setLastRequestNo(i)
              .addRecentResults(CachedResult.newBuilder().setRequestNo(i).setZxid(zxid))
              .build());
    }
    return new Snapshot(zxid, nodes, sessions);
  }

  /** Flips every bit of the byte at {@code offset}. */
  static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      channel.read(b, offset);
      b.put(0, (byte) ~b.get(0));
      channel.write(b.rewind(), offset);
    }
  }

  static void truncate(Path file, long sizeBytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(sizeBytes);
    }
  }
}
