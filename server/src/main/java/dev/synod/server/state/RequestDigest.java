package dev.synod.server.state;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import dev.synod.txn.v1.Txn;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * What a retried write is compared with: a SHA-256 of the write (its op case and the op message,
 * serialized deterministically; never the session, request number, time or origin, which differ
 * between a write and its retry or are not the client's). The dedup window keeps this 32-byte
 * digest beside each result, not the request. Every replica computes it from the same decided
 * bytes with the same code, so it is part of the deterministic state.
 *
 * <p>Not thread-safe: one instance per applier, used under the state machine's write lock.
 */
final class RequestDigest {
  /** Ops up to this size are serialized into {@link #scratch}; larger ones stream through. */
  static final int SCRATCH_BYTES_MAX = 64 * 1024;

  private final MessageDigest sha256;
  private final byte[] opFieldBytes = new byte[4];
  private byte[] scratch = new byte[512];

  RequestDigest() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The digest of a client write's op. */
  ByteString of(Txn txn) {
    MessageLite op = switch (txn.getOpCase()) {
      case CREATE -> txn.getCreate();
      case DELETE -> txn.getDelete();
      case SET_DATA -> txn.getSetData();
      case SET_ACL -> txn.getSetAcl();
      case MULTI -> txn.getMulti();
      case SET_QUOTA -> txn.getSetQuota();
      case CREATE_SESSION, CLOSE_SESSION, EXPIRE_TTL, NOOP, SET_MEMBERS, OP_NOT_SET ->
          throw new IllegalArgumentException("not a client write: " + txn.getOpCase());
    };
    sha256.reset();
    int opField = txn.getOpCase().getNumber();
    opFieldBytes[0] = (byte) (opField >>> 24);
    opFieldBytes[1] = (byte) (opField >>> 16);
    opFieldBytes[2] = (byte) (opField >>> 8);
    opFieldBytes[3] = (byte) opField;
    sha256.update(opFieldBytes);
    int size = op.getSerializedSize();
    try {
      if (size <= SCRATCH_BYTES_MAX) {
        // Serialized into a buffer kept between calls: a write's digest allocates only its result.
        if (scratch.length < size) {
          scratch = new byte[Math.min(SCRATCH_BYTES_MAX, Math.max(size, scratch.length * 2))];
        }
        CodedOutputStream out = CodedOutputStream.newInstance(scratch, 0, size);
        // Field order is fixed by the code anyway; deterministic mode also fixes map entry order.
        out.useDeterministicSerialization();
        op.writeTo(out);
        out.checkNoSpaceLeft();
        sha256.update(scratch, 0, size);
      } else {
        CodedOutputStream out = CodedOutputStream.newInstance(new DigestStream(sha256), 4096);
        out.useDeterministicSerialization();
        op.writeTo(out);
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("digesting never does I/O", e);
    }
    return ByteString.copyFrom(sha256.digest());
  }

  /** Feeds written bytes to the digest (no copy of the serialized request is kept). */
  private static final class DigestStream extends OutputStream {
    private final MessageDigest digest;

    DigestStream(MessageDigest digest) {
      this.digest = digest;
    }

    @Override
    public void write(int b) {
      digest.update((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      digest.update(b, off, len);
    }
  }
}
