package dev.synod.server.storage;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.AcceptedEntry;
import dev.synod.txn.v1.BallotRecord;
import dev.synod.txn.v1.CachedResult;
import dev.synod.txn.v1.Committed;
import dev.synod.txn.v1.LogEntry;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.Promised;
import dev.synod.txn.v1.SessionRecord;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
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

/** Log entries, snapshots and file damage for the storage tests. */
final class StorageTestData {
  private StorageTestData() {}

  /**
   * The log entry at {@code index}: mostly an {@code accepted} entry whose value (a TxnBatch of 0
   * to 3 Txns, so sizes vary from a no-op to a few hundred bytes), every tenth a {@code promised}
   * and every tenth (offset by 5) a {@code committed}.
   */
  static LogEntry entry(long index) {
    LogEntry.Builder entry = LogEntry.newBuilder().setIndex(index);
    BallotRecord ballot =
        BallotRecord.newBuilder().setRound(1 + index / 40).setNode((int) (index % 3) + 1).build();
    if (index % 10 == 0) {
      entry.setPromised(Promised.newBuilder().setBallot(ballot));
    } else if (index % 10 == 5) {
      entry.setCommitted(Committed.newBuilder().setSlot(index - 3));
    } else {
      TxnBatch.Builder batch = TxnBatch.newBuilder();
      for (long t = 0; t < index % 4; t++) {
        batch.addTxns(txn(index * 4 + t));
      }
      entry.setAccepted(
          AcceptedEntry.newBuilder()
              .setSlot(index)
              .setBallot(ballot)
              .setValue(batch.build().toByteString()));
    }
    return entry.build();
  }

  /** Entries for indexes {@code first..last}, inclusive. */
  static List<LogEntry> entries(long first, long last) {
    List<LogEntry> entries = new ArrayList<>();
    for (long index = first; index <= last; index++) {
      entries.add(entry(index));
    }
    return entries;
  }

  /** {@code entries(first, last)} with their indexes cleared, as callers of the store pass them. */
  static List<LogEntry> unindexed(long first, long last) {
    List<LogEntry> entries = new ArrayList<>();
    for (long index = first; index <= last; index++) {
      entries.add(entry(index).toBuilder().clearIndex().build());
    }
    return entries;
  }

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

  /** Everything {@code log} replays after {@code afterIndex}. */
  static List<LogEntry> replayed(WriteAheadLog log, long afterIndex) throws IOException {
    List<LogEntry> out = new ArrayList<>();
    log.replay(afterIndex, out::add);
    return out;
  }

  /** Everything {@code store} replays. */
  static List<LogEntry> replayed(DurableStore store) throws IOException {
    List<LogEntry> out = new ArrayList<>();
    store.replayLog(out::add);
    return out;
  }

  /** The zxid the snapshots of these tests have at {@code slot}: deliberately not the slot. */
  static long zxidAt(long slot) {
    return slot * 3 + 7;
  }

  /** A snapshot at {@code slot} (and zxid {@link #zxidAt}) with that many nodes and sessions. */
  static Snapshot snapshot(long slot, int nodeCount, int sessionCount) {
    long zxid = zxidAt(slot);
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
    return new Snapshot(zxid, slot, nodes, sessions);
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

  /**
   * The bytes of a segment file's header and records, checking that only zeros (the preallocated
   * rest of the file) follow them.
   */
  static long recordBytesIn(Path segment) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(java.nio.file.Files.readAllBytes(segment));
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    int offset = LogSegment.HEADER_BYTES;
    LogRecord.Decoded record;
    while ((record = LogRecord.decode(bytes, offset, LogSegment.FORMAT_VERSION, crc)) != null) {
      offset += record.sizeBytes();
    }
    if (!LogSegment.zeroFrom(bytes, offset)) {
      throw new AssertionError(segment + ": something other than zeros after the records");
    }
    return offset;
  }

  /**
   * Cuts every segment of the log in {@code dir} to its header and records, as recovery leaves a
   * segment after cutting a torn write off (and as format 3 wrote them): tests that damage bytes
   * at offsets near the end of the data then see the file end there.
   */
  static void trimToRecords(Path dir) throws IOException {
    for (Path segment : LogSegment.list(dir)) {
      truncate(segment, recordBytesIn(segment));
    }
  }

  static void truncate(Path file, long sizeBytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(sizeBytes);
    }
  }
}
