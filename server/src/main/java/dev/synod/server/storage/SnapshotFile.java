package dev.synod.server.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.txn.v1.SessionRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.mapdb.DBMaker;
import org.mapdb.Serializer;
import org.mapdb.volume.Volume;

/**
 * The format of one snapshot file: a MapDB file (file channel, no mmap, no transactions) with three
 * B-trees: {@code nodes} (path to NodeRecord bytes), {@code sessions} (session id to SessionRecord
 * bytes) and {@code meta} (format version, zxid, slot, decided time, counts, and a CRC32C over
 * every node and session entry in key order). MapDB has no checksum of its own over our data, so the CRC is what
 * proves a file is the snapshot that was written. Files are named by slot.
 */
final class SnapshotFile {
  /** Version 2 adds the slot (and names files by it); version 1 files are refused. */
  static final long FORMAT_VERSION = 2;

  private static final String NODES = "nodes";
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
      DB db = DBMaker.volumeDB(volume, false).checksumStoreEnable().make();
      // Bulk-load the B-trees from sorted input: far faster than one put per node.
      // The snapshot's nodes come in path order, MapDB's natural order for its bulk load.
      Iterator<SnapshotNodes.Entry> source = snapshot.nodeSource().iterator();
      long[] written = {0};
      Iterator<Pair<String, byte[]>> nodeEntries = new Iterator<>() {
        @Override
        public boolean hasNext() {
          return source.hasNext();
        }

        @Override
        public Pair<String, byte[]> next() {
          SnapshotNodes.Entry e = source.next();
          byte[] bytes = e.record().toByteArray();
          checksum.addNode(e.path(), bytes);
          written[0]++;
          return new Pair<>(e.path(), bytes);
        }
      };
      db.treeMap(NODES, Serializer.STRING, Serializer.BYTE_ARRAY).createFrom(nodeEntries);

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
      meta.put(META_NODE_COUNT, written[0]);
      meta.put(META_SESSION_COUNT, (long) sessions.size());
      meta.put(META_CRC32C, checksum.value());
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
    Volume volume = null;
    DB db = null;
    try {
      volume = disk.openVolume(file, true);
      db = DBMaker.volumeDB(volume, true).checksumStoreEnable().readOnly().make();
      BTreeMap<String, Long> meta = db.treeMap(META, Serializer.STRING, Serializer.LONG).open();
      long version = metaValue(file, meta, META_FORMAT_VERSION);
      if (version != FORMAT_VERSION) {
        throw invalid(file, "format version " + version + ", this Synod reads " + FORMAT_VERSION);
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
      Checksum checksum = new Checksum();

      // Raw records: parsed one at a time as the state machine loads them, so the whole tree
      // never exists as protobuf objects.
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
      List<SessionRecord> sessions = new ArrayList<>();
      for (Map.Entry<Long, byte[]> e :
          db.treeMap(SESSIONS, Serializer.LONG, Serializer.BYTE_ARRAY).open().entrySet()) {
        if (sessions.size() == sessionCount) {
          throw invalid(file, "more sessions than the " + sessionCount + " it should hold");
        }
        checksum.addSession(e.getKey(), e.getValue());
        sessions.add(SessionRecord.parseFrom(e.getValue()));
      }
      if (nodes.size() != nodeCount || sessions.size() != sessionCount) {
        throw invalid(
            file,
            nodes.size()
                + " nodes and "
                + sessions.size()
                + " sessions where "
                + nodeCount
                + " and "
                + sessionCount
                + " were written");
      }
      if (checksum.value() != metaValue(file, meta, META_CRC32C)) {
        throw invalid(file, "checksum mismatch");
      }
      return new Snapshot(zxid, slot, timeMs == null ? 0 : timeMs, nodes.build(),
          List.copyOf(sessions));
    } catch (InvalidProtocolBufferException e) {
      throw invalid(file, "a record does not parse: " + e.getMessage());
    } catch (RuntimeException | AssertionError | OutOfMemoryError e) {
      // A damaged MapDB file shows up as whatever its decoder trips on: DBException, index or
      // argument errors, Kotlin assertions, or an absurd allocation from a damaged length. None
      // of them may take the server down here: the caller falls back to an older snapshot.
      throw invalid(file, "unreadable: " + e);
    } finally {
      if (db != null) {
        closeQuietly(db);
      }
      if (volume != null) {
        volume.close();
      }
    }
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
  private static final class Checksum {
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer prefix = ByteBuffer.allocate(Long.BYTES);

    void addNode(String path, byte[] record) {
      addBytes(path.getBytes(StandardCharsets.UTF_8));
      addBytes(record);
    }

    void addSession(long sessionId, byte[] record) {
      crc.update(prefix.clear().putLong(sessionId).flip());
      addBytes(record);
    }

    private void addBytes(byte[] bytes) {
      crc.update(prefix.clear().putInt(bytes.length).flip());
      crc.update(bytes);
    }

    long value() {
      return crc.getValue();
    }
  }
}
