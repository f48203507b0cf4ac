package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.txn.v1.Txn;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

/**
 * The dedup digest is replicated state: every member, old or new, must compute the same bytes
 * for the same write, whichever path (scratch buffer or stream) serialized it.
 */
class RequestDigestTest {
  private static ByteString expected(int opField, com.google.protobuf.MessageLite op) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(new byte[] {(byte) (opField >>> 24), (byte) (opField >>> 16), (byte) (opField >>> 8), (byte) opField});
    sha.update(op.toByteArray());
    return ByteString.copyFrom(sha.digest());
  }

  @Test
  void smallAndLargeOpsDigestTheirSerializedBytes() throws Exception {
    RequestDigest digest = new RequestDigest();
    for (int size : new int[] {0, 100, 600, 5_000, RequestDigest.SCRATCH_BYTES_MAX + 10, 200_000, 100}) {
      SetDataRequest op = SetDataRequest.newBuilder().setPath("/d").setVersion(3)
          .setData(ByteString.copyFrom(new byte[size])).build();
      Txn txn = Txn.newBuilder().setSessionId(9).setRequestNo(4).setSetData(op).build();
      assertEquals(expected(Txn.SET_DATA_FIELD_NUMBER, op), digest.of(txn), "a value of " + size + " bytes");
    }
  }

  @Test
  void theOpKindAndNotTheSessionOrNumberCount() {
    RequestDigest digest = new RequestDigest();
    CreateRequest create = CreateRequest.newBuilder().setPath("/a").build();
    assertEquals(digest.of(Txn.newBuilder().setSessionId(1).setRequestNo(1).setCreate(create).build()),
        digest.of(Txn.newBuilder().setSessionId(2).setRequestNo(7).setTimeMs(5).setCreate(create).build()));
    assertNotEquals(digest.of(Txn.newBuilder().setCreate(create).build()),
        digest.of(Txn.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/a")).build()));
  }
}
