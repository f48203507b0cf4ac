package dev.synod.server.storage;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.BackupHeader;
import dev.synod.api.v1.BackupNode;
import dev.synod.api.v1.BackupNodes;
import dev.synod.api.v1.BackupSessions;
import dev.synod.api.v1.BackupTrailer;
import dev.synod.txn.v1.NodeRecord;
import dev.synod.txn.v1.SessionRecord;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The backup format: a {@link Snapshot} as a sequence of {@link BackupChunk}s (see
 * {@code synod/v1/admin.proto}): a header, the sessions and the nodes in chunks bounded in bytes,
 * and a trailer with the counts and a SHA-256 over every chunk before it. The Backup call streams
 * it; a backup file holds the same chunks, each length-delimited. Reading checks everything
 * (order, counts, checksum, a consistent tree) before anyone uses what was read.
 */
public final class BackupFormat {
  /** The format written, in {@link BackupHeader#getFormat()}. */
  public static final int FORMAT = 1;
  /** A chunk's bytes stay under this, well below gRPC's 4 MiB message limit. */
  static final int CHUNK_BYTES_MAX = 1 << 20;

  /** What a backup holds: its header and the state, as a snapshot covering slot 0. */
  public record Contents(BackupHeader header, Snapshot snapshot, BackupTrailer trailer) {}

  private BackupFormat() {}

  /**
   * Emits {@code s} as a backup of member {@code memberId} of cluster {@code clusterId}, taken at
   * {@code takenAtMs}.
   */
  public static void write(Snapshot s, long clusterId, int memberId, long takenAtMs,
      Consumer<BackupChunk> out) {
    MessageDigest sha = sha256();
    Consumer<BackupChunk> emit = chunk -> {
      sha.update(chunk.toByteString().asReadOnlyByteBuffer());
      out.accept(chunk);
    };
    emit.accept(BackupChunk.newBuilder().setHeader(BackupHeader.newBuilder()
        .setFormat(FORMAT).setZxid(s.zxid()).setTimeMs(s.timeMs()).setClusterId(clusterId)
        .setMemberId(memberId).setNodeCount(s.nodeCount()).setSessionCount(s.sessions().size())
        .setTakenAtMs(takenAtMs)).build());
    BackupSessions.Builder sessions = BackupSessions.newBuilder();
    int bytes = 0;
    for (SessionRecord r : s.sessions()) {
      if (bytes > 0 && bytes + r.getSerializedSize() > CHUNK_BYTES_MAX) {
        emit.accept(BackupChunk.newBuilder().setSessions(sessions).build());
        sessions = BackupSessions.newBuilder();
        bytes = 0;
      }
      sessions.addSessions(r);
      bytes += r.getSerializedSize() + 8;
    }
    if (sessions.getSessionsCount() > 0) {
      emit.accept(BackupChunk.newBuilder().setSessions(sessions).build());
    }
    BackupNodes.Builder nodes = BackupNodes.newBuilder();
    bytes = 0;
    long dataBytes = 0;
    for (Iterator<SnapshotNodes.Entry> it = s.nodeSource().iterator(); it.hasNext(); ) {
      SnapshotNodes.Entry e = it.next();
      int size = e.path().length() * 3 + e.record().getSerializedSize() + 16;
      if (bytes > 0 && bytes + size > CHUNK_BYTES_MAX) {
        emit.accept(BackupChunk.newBuilder().setNodes(nodes).build());
        nodes = BackupNodes.newBuilder();
        bytes = 0;
      }
      nodes.addNodes(BackupNode.newBuilder().setPath(e.path()).setRecord(e.record()));
      bytes += size;
      dataBytes += e.record().getData().size();
    }
    if (nodes.getNodesCount() > 0) {
      emit.accept(BackupChunk.newBuilder().setNodes(nodes).build());
    }
    out.accept(BackupChunk.newBuilder().setTrailer(BackupTrailer.newBuilder()
        .setNodeCount(s.nodeCount()).setSessionCount(s.sessions().size())
        .setDataBytes(dataBytes).setSha256(ByteString.copyFrom(sha.digest()))).build());
  }

  /**
   * Reads a whole backup and checks it.
   *
   * @throws IllegalArgumentException naming what is wrong: chunks out of order or missing, a
   *     count or the checksum that does not match, a format this version does not read, a tree
   *     that is not consistent
   */
  public static Contents read(Iterator<BackupChunk> chunks) {
    MessageDigest sha = sha256();
    BackupHeader header = null;
    List<SessionRecord> sessions = new ArrayList<>();
    SortedMap<String, NodeRecord> nodes = new TreeMap<>();
    long dataBytes = 0;
    while (chunks.hasNext()) {
      BackupChunk chunk = chunks.next();
      switch (chunk.getKindCase()) {
        case HEADER -> {
          if (header != null) {
            throw new IllegalArgumentException("backup has a second header");
          }
          header = chunk.getHeader();
          if (header.getFormat() != FORMAT) {
            throw new IllegalArgumentException("backup format " + header.getFormat()
                + " is not one this version reads (" + FORMAT + ")");
          }
        }
        case SESSIONS -> {
          requireHeader(header);
          sessions.addAll(chunk.getSessions().getSessionsList());
        }
        case NODES -> {
          requireHeader(header);
          for (BackupNode n : chunk.getNodes().getNodesList()) {
            if (!nodes.isEmpty() && n.getPath().compareTo(nodes.lastKey()) <= 0) {
              throw new IllegalArgumentException("backup nodes are not in path order at " + n.getPath());
            }
            nodes.put(n.getPath(), n.getRecord());
            dataBytes += n.getRecord().getData().size();
          }
        }
        case TRAILER -> {
          requireHeader(header);
          BackupTrailer t = chunk.getTrailer();
          if (!ByteString.copyFrom(sha.digest()).equals(t.getSha256())) {
            throw new IllegalArgumentException("backup checksum does not match: the file is damaged");
          }
          if (t.getNodeCount() != nodes.size() || header.getNodeCount() != nodes.size()
              || t.getSessionCount() != sessions.size() || header.getSessionCount() != sessions.size()
              || t.getDataBytes() != dataBytes) {
            throw new IllegalArgumentException("backup counts do not match: header says "
                + header.getNodeCount() + " nodes and " + header.getSessionCount() + " sessions, "
                + "the backup holds " + nodes.size() + " and " + sessions.size());
          }
          if (chunks.hasNext()) {
            throw new IllegalArgumentException("backup has chunks after its trailer");
          }
          if (!nodes.containsKey("/")) {
            throw new IllegalArgumentException("backup has no root node");
          }
          return new Contents(header, new Snapshot(header.getZxid(), 0, header.getTimeMs(),
              java.util.Collections.unmodifiableSortedMap(nodes), List.copyOf(sessions)), t);
        }
        case KIND_NOT_SET -> throw new IllegalArgumentException("backup has an empty chunk");
      }
      sha.update(chunk.toByteString().asReadOnlyByteBuffer());
    }
    throw new IllegalArgumentException(header == null ? "backup is empty"
        : "backup is cut short: no trailer after " + nodes.size() + " nodes");
  }

  private static void requireHeader(BackupHeader header) {
    if (header == null) {
      throw new IllegalArgumentException("backup does not start with its header");
    }
  }

  /** Writes a backup file from {@code chunks}, atomically (a temporary file, then a rename). */
  public static void writeFile(Path file, Iterator<BackupChunk> chunks) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".partial");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
      while (chunks.hasNext()) {
        chunks.next().writeDelimitedTo(out);
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Reads and checks a backup file.
   *
   * @throws IllegalArgumentException if it is not a whole, sound backup (see {@link #read})
   */
  public static Contents readFile(Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      return read(new Iterator<>() {
        private BackupChunk next;

        @Override
        public boolean hasNext() {
          if (next == null) {
            try {
              next = BackupChunk.parseDelimitedFrom(in);
            } catch (IOException e) {
              throw new IllegalArgumentException("backup file " + file + " is damaged: " + e.getMessage());
            }
          }
          return next != null;
        }

        @Override
        public BackupChunk next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          BackupChunk c = next;
          next = null;
          return c;
        }
      });
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
