package dev.synod.server.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.txn.v1.SessionRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import kotlin.Pair;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBException;
import org.mapdb.DBMaker;
import org.mapdb.MapModificationListener;
import org.mapdb.Serializer;
import org.mapdb.volume.Volume;

/**
 * The format of one snapshot file: a MapDB file (file channel, no mmap, no transactions) with three
 * B-trees: {@code nodeChunks} (chunk number to a block of nodes), {@code sessions} (session id to
 * SessionRecord bytes) and {@code meta} (format version, zxid, slot, decided time, counts, and a
 * CRC32C over every node and session entry in key order). A chunk holds consecutive nodes in path
 * order, each as a varint length and the UTF-8 path, then a varint length and the NodeRecord bytes,
 * about {@link #CHUNK_BYTES_TARGET} of them: MapDB then moves a few thousand large values instead
 * of a million small ones. The CRC is what proves a file is the snapshot that was written, so
 * MapDB's own store checksum (which costs more than everything else together; see
 * docs/benchmarks.md, "Scale") is off. Files are named by slot.
 *
 * <p>Version 2 files (one B-tree entry per node, {@code nodes}: path to NodeRecord bytes, in a
 * store with MapDB's checksum) are still read.
 */
final class SnapshotFile {
  /**
   * Version 3 stores nodes in chunks, without MapDB's store checksum. Version 2 (one entry per
   * node) is still read; version 1 files are refused.
   */
  static final long FORMAT_VERSION = 3;
  static final long FORMAT_VERSION_PER_NODE = 2;

  /**
   * Nodes are cut into chunks of about this many bytes (a chunk holds one node at least): below
   * MapDB's largest single record (64 KiB), so that a chunk is one read, not a linked record.
   */
  static final int CHUNK_BYTES_TARGET = 48 * 1024;

  /**
   * A version 3 snapshot whose node chunks take at most this many bytes is kept in memory once
   * verified; a larger one is read again from the file as it is restored (a second read, from the
   * page cache, costs less than holding the whole file next to the tree it becomes: 1.6 GB for
   * 10 million nodes).
   */
  static final long KEPT_CHUNK_BYTES_MAX = 64L << 20;

  /** Version 2's node tree. */
  private static final String NODES = "nodes";
  private static final String NODE_CHUNKS = "nodeChunks";
  private static final String SESSIONS = "sessions";
  private static final String META = "meta";
  private static final String META_FORMAT_VERSION = "formatVersion";
  private static final String META_ZXID = "zxid";
  private static final String META_SLOT = "slot";
  /** The decided time; absent in files written before it was recorded (read as 0). */
  private static final String META_TIME_MS = "timeMs";
  private static final String META_NODE_COUNT = "nodeCount";
  private static final String META_SESSION_COUNT = "sessionCount";
  private static final String META_CRC32C = "crc32c";
  /**
   * CRC32C of the meta values themselves (format version, zxid, slot, decided time, counts and the
   * entries' CRC, in that order, as big-endian longs): without it a bad sector in the meta could
   * hand a load a wrong zxid that nothing else checks. Absent in files written before it was
   * recorded (they load as before).
   */
  private static final String META_META_CRC32C = "metaCrc32c";
  /** How MapDB's catalog names the serializers of the chunk tree a writer makes. */
  private static final String CHUNK_KEY_SERIALIZER = "org.mapdb.Serializer#LONG";
  private static final String CHUNK_VALUE_SERIALIZER = "org.mapdb.Serializer#BYTE_ARRAY";

  private static final String SUFFIX = ".db";
  static final String TMP_SUFFIX = ".tmp";

  /** Added to the name of a snapshot that failed verification, which is then kept aside. */
  static final String DAMAGED_SUFFIX = ".damaged";

  private static final Pattern FILE_NAME = Pattern.compile("snapshot-(\\d{20})\\.db");

  private SnapshotFile() {}

  static String fileName(long slot) {
    return String.format("snapshot-%020d", slot) + SUFFIX;
  }

  static String tmpFileName(long slot) {
    return fileName(slot) + TMP_SUFFIX;
  }

  /** The slot in a finished snapshot's file name, or -1 if it is not one. */
  static long slotOf(Path file) {
    Matcher m = FILE_NAME.matcher(file.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /**
   * Writes {@code snapshot} to a new file at {@code file} on {@code disk} and closes it (no fsync).
   */
  static void write(Disk disk, Path file, Snapshot snapshot) throws IOException {
    SortedMap<Long, byte[]> sessions = sessionsById(snapshot.sessions());
    Checksum checksum = new Checksum();
    Volume volume = null;
    try {
      volume = disk.openVolume(file, false);
      DB db = DBMaker.volumeDB(volume, false).make();
      // Bulk-load the B-trees from sorted input: far faster than one put per entry. The chunks
      // are made as MapDB asks for them, so the snapshot is never in memory as a whole.
      NodeChunker chunks = new NodeChunker(snapshot.nodeSource().iterator(), checksum);
      // Values outside the B-tree nodes: each chunk is a record of its own, not 32 in one.
      db.treeMap(NODE_CHUNKS, Serializer.LONG, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable()
          .createFrom(chunks);

      Iterator<Pair<Long, byte[]>> sessionEntries =
          sessions.entrySet().stream()
              .map(
                  e -> {
                    checksum.addSession(e.getKey(), e.getValue());
                    return new Pair<>(e.getKey(), e.getValue());
                  })
              .iterator();
      db.treeMap(SESSIONS, Serializer.LONG, Serializer.BYTE_ARRAY).createFrom(sessionEntries);

      BTreeMap<String, Long> meta = db.treeMap(META, Serializer.STRING, Serializer.LONG).create();
      meta.put(META_FORMAT_VERSION, FORMAT_VERSION);
      meta.put(META_ZXID, snapshot.zxid());
      meta.put(META_SLOT, snapshot.slot());
      meta.put(META_TIME_MS, snapshot.timeMs());
      meta.put(META_NODE_COUNT, chunks.nodes());
      meta.put(META_SESSION_COUNT, (long) sessions.size());
      meta.put(META_CRC32C, checksum.value());
      meta.put(META_META_CRC32C, metaChecksum(FORMAT_VERSION, snapshot.zxid(), snapshot.slot(),
          snapshot.timeMs(), chunks.nodes(), sessions.size(), checksum.value()));
      db.close();
    } catch (RuntimeException e) {
      // MapDB reports I/O failures (disk full, ...) as unchecked DBExceptions.
      throw new IOException("writing snapshot " + file.toAbsolutePath() + " failed: " + e, e);
    } finally {
      if (volume != null) {
        volume.close();
      }
    }
  }

  private static SortedMap<Long, byte[]> sessionsById(List<SessionRecord> sessions) {
    SortedMap<Long, byte[]> byId = new TreeMap<>();
    for (SessionRecord session : sessions) {
      if (byId.put(session.getSessionId(), session.toByteArray()) != null) {
        throw new IllegalArgumentException(
            "snapshot lists session " + session.getSessionId() + " twice");
      }
    }
    return byId;
  }

  /**
   * Reads and verifies the snapshot in {@code file}, which its name says is at {@code slot}.
   * Sessions come back ordered by id.
   *
   * @throws IOException saying why, if the file is unreadable or fails verification
   */
  static Snapshot read(Disk disk, Path file, long slot) throws IOException {
    return read(disk, file, slot, KEPT_CHUNK_BYTES_MAX);
  }

  /**
   * As {@link #read(Disk, Path, long)}, keeping at most {@code keptBytesMax} of node chunks in
   * memory: a larger snapshot's nodes are read from the file again when visited.
   */
  static Snapshot read(Disk disk, Path file, long slot, long keptBytesMax) throws IOException {
    Opened opened = null;
    try {
      opened = Opened.open(disk, file);
      DB db = opened.db;
      BTreeMap<String, Long> meta = db.treeMap(META, Serializer.STRING, Serializer.LONG).open();
      long version = metaValue(file, meta, META_FORMAT_VERSION);
      if (version != FORMAT_VERSION && version != FORMAT_VERSION_PER_NODE) {
        throw invalid(file, "format version " + version + ", this Synod reads "
            + FORMAT_VERSION_PER_NODE + " and " + FORMAT_VERSION);
      }
      if (metaValue(file, meta, META_SLOT) != slot) {
        throw invalid(
            file, "it says slot " + metaValue(file, meta, META_SLOT) + ", its name says " + slot);
      }
      long zxid = metaValue(file, meta, META_ZXID);
      if (zxid < 0) {
        throw invalid(file, "it says zxid " + zxid);
      }
      Long timeMs = meta.get(META_TIME_MS);
      long nodeCount = metaValue(file, meta, META_NODE_COUNT);
      long sessionCount = metaValue(file, meta, META_SESSION_COUNT);
      Long metaCrc = meta.get(META_META_CRC32C);
      if (metaCrc != null && metaCrc != metaChecksum(version, zxid, slot, timeMs == null ? 0 : timeMs,
          nodeCount, sessionCount, metaValue(file, meta, META_CRC32C))) {
        throw invalid(file, "its meta (zxid, slot, time, counts) fails its checksum");
      }
      Checksum checksum = new Checksum();

      SnapshotNodes nodes = version == FORMAT_VERSION
          ? readChunks(disk, file, db, opened.length(), nodeCount, checksum, keptBytesMax)
          : readPerNode(file, db, nodeCount, checksum);
      List<SessionRecord> sessions = new ArrayList<>();
      for (Map.Entry<Long, byte[]> e :
          db.treeMap(SESSIONS, Serializer.LONG, Serializer.BYTE_ARRAY).open().entrySet()) {
        if (sessions.size() == sessionCount) {
          throw invalid(file, "more sessions than the " + sessionCount + " it should hold");
        }
        checksum.addSession(e.getKey(), e.getValue());
        sessions.add(SessionRecord.parseFrom(e.getValue()));
      }
      if (nodes.count() != nodeCount || sessions.size() != sessionCount) {
        throw invalid(file, nodes.count() + " nodes and " + sessions.size() + " sessions where "
            + nodeCount + " and " + sessionCount + " were written");
      }
      if (checksum.value() != metaValue(file, meta, META_CRC32C)) {
        throw invalid(file, "checksum mismatch");
      }
      return new Snapshot(zxid, slot, timeMs == null ? 0 : timeMs, nodes, List.copyOf(sessions));
    } catch (InvalidProtocolBufferException e) {
      throw invalid(file, "a record does not parse: " + e.getMessage());
    } catch (RuntimeException | AssertionError | OutOfMemoryError e) {
      // A damaged MapDB file shows up as whatever its decoder trips on: DBException, index or
      // argument errors, Kotlin assertions, or an absurd allocation from a damaged length. None
      // of them may take the server down here: the caller falls back to an older snapshot.
      throw invalid(file, "unreadable: " + e);
    } finally {
      if (opened != null) {
        opened.close();
      }
    }
  }

  /** A snapshot file open for reading: its volume and MapDB store. */
  static final class Opened implements AutoCloseable {
    private final Volume volume;
    private final DB db;

    private Opened(Volume volume, DB db) {
      this.volume = volume;
      this.db = db;
    }

    /**
     * Opens {@code file} read-only, as a version 3 store (no store checksum) or, if MapDB says it
     * was made with one, as a version 2 store.
     *
     * @throws RuntimeException whatever MapDB throws for a damaged file
     */
    static Opened open(Disk disk, Path file) throws IOException {
      Volume volume = new ReadOnlyVolume(disk.openVolume(file, true));
      try {
        return new Opened(volume, DBMaker.volumeDB(volume, true).readOnly().make());
      } catch (DBException.WrongConfiguration e) {
        // A version 2 file: made with MapDB's store checksum, which a store must be opened with.
        volume.close();
      } catch (RuntimeException | Error e) {
        volume.close();
        throw e;
      }
      volume = new ReadOnlyVolume(disk.openVolume(file, true));
      try {
        return new Opened(volume,
            DBMaker.volumeDB(volume, true).checksumStoreEnable().readOnly().make());
      } catch (RuntimeException | Error e) {
        volume.close();
        throw e;
      }
    }

    /** The file's size in bytes. */
    long length() {
      return volume.length();
    }

    /** Version 3's node chunks, by number from 0, read into {@code reader}'s buffers. */
    BTreeMap<Long, ChunkReader.Chunk> nodeChunks(ChunkReader reader) {
      return nodeChunksOf(db, reader);
    }

    @Override
    public void close() {
      closeQuietly(db);
      volume.close();
    }
  }

  /**
   * Version 3's nodes: the chunks, numbered 0, 1, ... Each entry's bounds are checked and summed
   * here. If the file is at most {@code keptBytesMax}, the chunks are kept in memory (paths and
   * records decoded only when the snapshot is iterated); otherwise the nodes are read from the
   * file again when they are visited ({@link StreamedSnapshotNodes}), so that a restore never
   * holds the whole file and the tree it becomes at once.
   */
  private static SnapshotNodes readChunks(Disk disk, Path file, DB db, long fileBytes,
      long nodeCount, Checksum checksum, long keptBytesMax) throws IOException {
    // Kept only if the whole file fits: starting to keep a large one would touch as much memory
    // as it is allowed to keep, for nothing.
    ChunkedSnapshotNodes.Builder kept =
        fileBytes <= keptBytesMax ? new ChunkedSnapshotNodes.Builder() : null;
    long keptBytes = 0;
    CRC32C chunksCrc = new CRC32C();
    long chunks = 0;
    long count = 0;
    ChunkReader reader = new ChunkReader();
    for (Map.Entry<Long, ChunkReader.Chunk> e : nodeChunksOf(db, reader).entrySet()) {
      if (e.getKey() != chunks) {
        throw invalid(file, "node chunk " + e.getKey() + " where " + chunks + " belongs");
      }
      byte[] chunk = e.getValue().bytes();
      int length = e.getValue().length();
      // Counted as we go: a damaged chunk could otherwise claim any number of nodes.
      long entries = checksum.addChunk(chunk, length, nodeCount - count);
      if (entries < 0) {
        throw invalid(file, "more nodes than the " + nodeCount + " it should hold");
      }
      count += entries;
      chunksCrc.update(chunk, 0, length);
      chunks++;
      if (kept != null) {
        keptBytes += length;
        if (keptBytes <= keptBytesMax) {
          kept.add(chunk, length);
        } else {
          kept = null;
        }
      }
      reader.release(e.getValue()); // summed, and copied if kept
    }
    return kept != null
        ? kept.build(count)
        : new StreamedSnapshotNodes(disk, file, count, chunks, chunksCrc.getValue());
  }

  /**
   * Version 3's chunk tree, opened with {@code reader} as its value serializer (it reads what
   * {@link Serializer#BYTE_ARRAY} wrote). Made from the store's catalog entries directly: MapDB's
   * own {@code treeMap(...).open()} takes the serializer the catalog names over the one given.
   *
   * @throws IllegalArgumentException if the catalog does not describe the tree a writer makes
   */
  private static BTreeMap<Long, ChunkReader.Chunk> nodeChunksOf(DB db, ChunkReader reader) {
    SortedMap<String, String> catalog = db.nameCatalogLoad();
    String prefix = NODE_CHUNKS + "#";
    if (!"TreeMap".equals(catalog.get(prefix + "type"))
        || !"false".equals(catalog.get(prefix + "valueInline"))
        || !CHUNK_KEY_SERIALIZER.equals(catalog.get(prefix + "keySerializer"))
        || !CHUNK_VALUE_SERIALIZER.equals(catalog.get(prefix + "valueSerializer"))) {
      throw new IllegalArgumentException("the node chunk tree is not as written: " + catalog);
    }
    return new BTreeMap<>(Serializer.LONG, reader,
        catalogNumber(catalog, prefix + "rootRecidRecid"), db.getStore(), false,
        (int) catalogNumber(catalog, prefix + "maxNodeSize"), Serializer.LONG, false,
        catalogNumber(catalog, prefix + "counterRecid"), true, new MapModificationListener[0]);
  }

  private static long catalogNumber(Map<String, String> catalog, String key) {
    String value = catalog.get(key);
    if (value == null) {
      throw new IllegalArgumentException("the store's catalog has no " + key);
    }
    return Long.parseLong(value); // NumberFormatException is an IllegalArgumentException
  }

  /** Version 2's nodes: one entry each, kept as raw records until the snapshot is iterated. */
  private static SnapshotNodes readPerNode(Path file, DB db, long nodeCount, Checksum checksum)
      throws IOException {
    RawSnapshotNodes.Builder nodes = new RawSnapshotNodes.Builder();
    for (Map.Entry<String, byte[]> e :
        db.treeMap(NODES, Serializer.STRING, Serializer.BYTE_ARRAY).open().entrySet()) {
      // Counted as we go: a damaged B-tree could otherwise loop or run on forever.
      if (nodes.size() == nodeCount) {
        throw invalid(file, "more nodes than the " + nodeCount + " it should hold");
      }
      checksum.addNode(e.getKey(), e.getValue());
      nodes.add(e.getKey(), e.getValue());
    }
    return nodes.build();
  }

  /** See {@link #META_META_CRC32C}. */
  static long metaChecksum(long version, long zxid, long slot, long timeMs, long nodeCount,
      long sessionCount, long entriesCrc) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(7 * Long.BYTES);
    b.putLong(version).putLong(zxid).putLong(slot).putLong(timeMs).putLong(nodeCount)
        .putLong(sessionCount).putLong(entriesCrc).flip();
    CRC32C crc = new CRC32C();
    crc.update(b);
    return crc.getValue();
  }

  private static long metaValue(Path file, Map<String, Long> meta, String key) throws IOException {
    Long value = meta.get(key);
    if (value == null) {
      throw invalid(file, "its meta has no " + key);
    }
    return value;
  }

  private static IOException invalid(Path file, String why) {
    return new IOException("snapshot " + file.toAbsolutePath() + " is not valid: " + why);
  }

  private static void closeQuietly(DB db) {
    try {
      db.close();
    } catch (RuntimeException | AssertionError e) {
      // Reading is over; a damaged file may also fail to close cleanly. Nothing was written.
    }
  }

  /**
   * CRC32C over every entry in key order, each as length-prefixed key and value, so that moving
   * bytes between entries changes the sum.
   */
  static final class Checksum {
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer prefix = ByteBuffer.allocate(Long.BYTES);
    /** Where {@link #addChunk} lays out a chunk's entries with their prefixes. */
    private byte[] scratch = new byte[0];

    void addNode(String path, byte[] record) {
      addNode(path.getBytes(StandardCharsets.UTF_8), record);
    }

    void addNode(byte[] pathUtf8, byte[] record) {
      addBytes(pathUtf8);
      addBytes(record);
    }

    /** The same sum as {@link #addNode(String, byte[])}, from the UTF-8 path's bytes. */
    void addNode(byte[] bytes, int pathAt, int pathLength, int recordAt, int recordLength) {
      addBytes(bytes, pathAt, pathLength);
      addBytes(bytes, recordAt, recordLength);
    }

    /**
     * Sums every entry (varint length, path, varint length, record) of the first {@code length}
     * bytes of {@code chunk}, the same as {@link #addNode(byte[], int, int, int, int)} for each:
     * copied with their length prefixes into one buffer and summed at once, which costs a cold
     * JVM far less than two small updates per node.
     *
     * @return how many entries there were, or -1 (having summed nothing) if more than
     *     {@code entriesMax}
     * @throws IllegalArgumentException if an entry runs past the chunk's end
     */
    long addChunk(byte[] chunk, int length, long entriesMax) {
      int at = 0;
      int out = 0;
      long entries = 0;
      while (at < length) {
        if (entries == entriesMax) {
          return -1;
        }
        int pathAt = ChunkedSnapshotNodes.skipVarint(chunk, at, length);
        int pathLength = ChunkedSnapshotNodes.readLength(chunk, at, pathAt, length);
        int recordLengthAt = pathAt + pathLength;
        int recordAt = ChunkedSnapshotNodes.skipVarint(chunk, recordLengthAt, length);
        int recordLength =
            ChunkedSnapshotNodes.readLength(chunk, recordLengthAt, recordAt, length);
        int needed = out + 8 + pathLength + recordLength;
        if (needed > scratch.length) {
          scratch = Arrays.copyOf(scratch, Math.max(needed, scratch.length * 2));
        }
        out = putInt(scratch, out, pathLength);
        System.arraycopy(chunk, pathAt, scratch, out, pathLength);
        out += pathLength;
        out = putInt(scratch, out, recordLength);
        System.arraycopy(chunk, recordAt, scratch, out, recordLength);
        out += recordLength;
        at = recordAt + recordLength;
        entries++;
      }
      crc.update(scratch, 0, out);
      return entries;
    }

    /** Writes {@code value} big-endian (as the prefix ByteBuffer does) at {@code at}. */
    private static int putInt(byte[] out, int at, int value) {
      out[at] = (byte) (value >>> 24);
      out[at + 1] = (byte) (value >>> 16);
      out[at + 2] = (byte) (value >>> 8);
      out[at + 3] = (byte) value;
      return at + 4;
    }

    void addSession(long sessionId, byte[] record) {
      crc.update(prefix.clear().putLong(sessionId).flip());
      addBytes(record);
    }

    private void addBytes(byte[] bytes) {
      addBytes(bytes, 0, bytes.length);
    }

    private void addBytes(byte[] bytes, int at, int length) {
      crc.update(prefix.clear().putInt(length).flip());
      crc.update(bytes, at, length);
    }

    long value() {
      return crc.getValue();
    }
  }
}
