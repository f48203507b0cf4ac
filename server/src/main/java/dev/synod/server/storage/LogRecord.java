package dev.synod.server.storage;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The record format of a log segment, big-endian. Format 3 (written today):
 *
 * <pre>
 *   [int32 payload length][int32 CRC32C of (length, group start, payload)]
 *   [int64 group start: the index of the first record of the write this record was part of]
 *   [payload = LogEntry bytes]
 * </pre>
 *
 * Format 2 (read only) had no group start: {@code [int32 length][int32 CRC32C of (length,
 * payload)][payload]}.
 *
 * <p>A <i>group</i> is everything the log wrote between two fsyncs (one group commit). Its records
 * all carry the index of its first record, so recovery can tell which write a record came from: a
 * bad record followed only by records of the same, final group is a write torn by a crash, while a
 * bad record followed by a record of a later group was synced before that group began, and its
 * damage is corruption. The checksum covers the length and the group start too, so a damaged field
 * cannot make a wrong span of bytes look like a record.
 */
final class LogRecord {
  /** Header of a format-3 record: length, checksum, group start. */
  static final int HEADER_BYTES = 4 + 4 + 8;

  /** Header of a format-2 record: length, checksum. */
  static final int HEADER_BYTES_FORMAT_2 = 4 + 4;

  /** What {@link Decoded#groupStart()} holds for a format-2 record, which did not record it. */
  static final long GROUP_START_UNKNOWN = 0;

  /**
   * Limit on one LogEntry's encoded size. Far above any batch the server builds; it bounds the
   * write buffer and stops a damaged length field from being believed.
   */
  static final int PAYLOAD_BYTES_MAX = 16 << 20;

  private static final int LENGTH_FIELD_BYTES = 4;
  private static final int GROUP_START_OFFSET = 4 + 4;

  private LogRecord() {}

  /**
   * A record read back: the entry, the bytes it took in the file, and the index of the first record
   * of the write it was part of ({@link #GROUP_START_UNKNOWN} in format 2).
   */
  record Decoded(LogEntry entry, int sizeBytes, long groupStart) {
    long index() {
      return entry.getIndex();
    }
  }

  /**
   * Encodes {@code entry} in the current format at the buffer's position and advances it. The
   * buffer must have {@code HEADER_BYTES + payloadBytes} remaining.
   *
   * @param groupStart the index of the first record of the group (the write before the next fsync)
   *     that this record is part of
   */
  static void encode(
      LogEntry entry, int payloadBytes, long groupStart, ByteBuffer buffer, CRC32C crc)
      throws IOException {
    int start = buffer.position();
    int payloadStart = start + HEADER_BYTES;
    buffer.putInt(start, payloadBytes);
    buffer.putLong(start + GROUP_START_OFFSET, groupStart);
    // Serialize straight into the (direct) write buffer: no per-record byte[] on the hot path.
    CodedOutputStream out = CodedOutputStream.newInstance(buffer.slice(payloadStart, payloadBytes));
    entry.writeTo(out);
    out.flush();
    out.checkNoSpaceLeft();
    buffer.putInt(
        start + LENGTH_FIELD_BYTES, checksum(buffer, start, HEADER_BYTES, payloadBytes, crc));
    buffer.position(payloadStart + payloadBytes);
  }

  /**
   * Decodes the record at {@code offset} of {@code bytes}, in the record format of segment format
   * {@code formatVersion}, or returns null if there is no whole, checksum-valid record holding a
   * LogEntry there (in format 3, also one whose group start is not in [1, its index]).
   */
  static Decoded decode(ByteBuffer bytes, int offset, int formatVersion, CRC32C crc) {
    return decode(bytes, offset, formatVersion, crc, 1, Long.MAX_VALUE);
  }

  /**
   * As {@link #decode(ByteBuffer, int, int, CRC32C)}, but in format 3 a record whose group start is
   * outside [{@code groupStartMin}, {@code groupStartMax}] is no record either; that is checked
   * before the checksum, which makes scanning a damaged region for records cheap.
   */
  static Decoded decode(
      ByteBuffer bytes,
      int offset,
      int formatVersion,
      CRC32C crc,
      long groupStartMin,
      long groupStartMax) {
    int headerBytes = formatVersion >= 3 ? HEADER_BYTES : HEADER_BYTES_FORMAT_2;
    int available = bytes.limit() - offset;
    if (available < headerBytes) {
      return null;
    }
    int payloadBytes = bytes.getInt(offset);
    // A LogEntry always has an index (>= 1), so an empty payload is never a record (it is what a
    // zero-filled tail looks like).
    if (payloadBytes <= 0
        || payloadBytes > PAYLOAD_BYTES_MAX
        || payloadBytes > available - headerBytes) {
      return null;
    }
    long groupStart = GROUP_START_UNKNOWN;
    if (formatVersion >= 3) {
      groupStart = bytes.getLong(offset + GROUP_START_OFFSET);
      if (groupStart < Math.max(1, groupStartMin) || groupStart > groupStartMax) {
        return null;
      }
    }
    int stored = bytes.getInt(offset + LENGTH_FIELD_BYTES);
    if (stored != checksum(bytes, offset, headerBytes, payloadBytes, crc)) {
      return null;
    }
    LogEntry entry;
    try {
      entry = LogEntry.parseFrom(bytes.slice(offset + headerBytes, payloadBytes));
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
    if (formatVersion >= 3 && groupStart > entry.getIndex()) {
      return null;
    }
    return new Decoded(entry, headerBytes + payloadBytes, groupStart);
  }

  /** CRC32C of the length field, what follows the checksum in the header, and the payload. */
  private static int checksum(
      ByteBuffer bytes, int recordStart, int headerBytes, int payloadBytes, CRC32C crc) {
    crc.reset();
    crc.update(bytes.slice(recordStart, LENGTH_FIELD_BYTES));
    crc.update(bytes.slice(recordStart + GROUP_START_OFFSET, headerBytes - GROUP_START_OFFSET));
    crc.update(bytes.slice(recordStart + headerBytes, payloadBytes));
    return (int) crc.getValue();
  }
}
