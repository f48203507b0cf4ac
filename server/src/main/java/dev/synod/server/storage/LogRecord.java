package dev.synod.server.storage;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.synod.txn.v1.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The record format of a log segment, big-endian:
 *
 * <pre>
 *   [int32 payload length][int32 CRC32C of (length field, payload)][payload = LogEntry bytes]
 * </pre>
 *
 * The checksum covers the length field too, so a damaged length cannot make a wrong span of bytes
 * look like a record.
 */
final class LogRecord {
  static final int HEADER_BYTES = 4 + 4;

  /**
   * Limit on one LogEntry's encoded size. Far above any batch the server builds; it bounds the
   * write buffer and stops a damaged length field from being believed.
   */
  static final int PAYLOAD_BYTES_MAX = 16 << 20;

  private static final int LENGTH_FIELD_BYTES = 4;

  private LogRecord() {}

  /** A record read back: the entry and the bytes it took in the file. */
  record Decoded(LogEntry entry, int sizeBytes) {}

  /**
   * Encodes {@code entry} at the buffer's position and advances it. The buffer must have {@code
   * HEADER_BYTES + payloadBytes} remaining.
   */
  static void encode(LogEntry entry, int payloadBytes, ByteBuffer buffer, CRC32C crc)
      throws IOException {
    int start = buffer.position();
    int payloadStart = start + HEADER_BYTES;
    buffer.putInt(start, payloadBytes);
    // Serialize straight into the (direct) write buffer: no per-record byte[] on the hot path.
    CodedOutputStream out = CodedOutputStream.newInstance(buffer.slice(payloadStart, payloadBytes));
    entry.writeTo(out);
    out.flush();
    out.checkNoSpaceLeft();
    buffer.putInt(start + LENGTH_FIELD_BYTES, checksum(buffer, start, payloadBytes, crc));
    buffer.position(payloadStart + payloadBytes);
  }

  /**
   * Decodes the record at {@code offset} of {@code bytes}, or returns null if there is no whole,
   * checksum-valid record holding a LogEntry there.
   */
  static Decoded decode(ByteBuffer bytes, int offset, CRC32C crc) {
    int available = bytes.limit() - offset;
    if (available < HEADER_BYTES) {
      return null;
    }
    int payloadBytes = bytes.getInt(offset);
    // A LogEntry always has an index (>= 1), so an empty payload is never a record (it is what a
    // zero-filled tail looks like).
    if (payloadBytes <= 0
        || payloadBytes > PAYLOAD_BYTES_MAX
        || payloadBytes > available - HEADER_BYTES) {
      return null;
    }
    if (bytes.getInt(offset + LENGTH_FIELD_BYTES) != checksum(bytes, offset, payloadBytes, crc)) {
      return null;
    }
    try {
      LogEntry entry = LogEntry.parseFrom(bytes.slice(offset + HEADER_BYTES, payloadBytes));
      return new Decoded(entry, HEADER_BYTES + payloadBytes);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static int checksum(ByteBuffer bytes, int recordStart, int payloadBytes, CRC32C crc) {
    crc.reset();
    crc.update(bytes.slice(recordStart, LENGTH_FIELD_BYTES));
    crc.update(bytes.slice(recordStart + HEADER_BYTES, payloadBytes));
    return (int) crc.getValue();
  }
}
