package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every op a client can send gets an answer: on the session stream each Request op (including
 * none at all) is answered with its own result kind or a precise error, never silence; every
 * unary RPC is implemented (the generated base would answer UNIMPLEMENTED). The ops are taken
 * from the proto descriptors, so an op added later is covered without editing this test.
 */
class EveryOpIsAnsweredTest {
  @TempDir Path dir;

  @Test
  void everyRequestOpOnTheSessionStreamIsAnswered() throws Exception {
    try (TestServer server = new TestServer(dir)) {
      StreamClient c = StreamClient.open(server.channel(), 5_000);
      List<String> seen = new ArrayList<>();
      for (Request.OpCase op : Request.OpCase.values()) {
        Response r = c.call(requestOf(op));
        seen.add(op + " -> " + (r.hasError() ? r.getError().getReason() : r.getResultCase()));
        if (op == Request.OpCase.OP_NOT_SET) {
          assertEquals(ErrorReason.BAD_ARGUMENT, r.getError().getReason(), r.toString());
        } else if (!r.hasError()) {
          // The result field mirrors the op's field number (create = 10 in both, ...).
          assertEquals(op.getNumber(), r.getResultCase().getNumber(), op + " answered with " + r);
        } else {
          assertFalse(r.getError().getMessage().isEmpty(), op + ": an error says why");
        }
      }
      assertEquals(Request.OpCase.values().length, seen.size(), String.join(", ", seen));
      assertTrue(c.heartbeat(1).getTimeLeftMs() > 0, "the session is still open: " + seen);
      c.close();
    }
  }

  @Test
  void everyUnaryRpcIsImplemented() {
    List<String> missing = new ArrayList<>();
    for (Method m : SynodGrpc.AsyncService.class.getDeclaredMethods()) {
      try {
        SynodService.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
      } catch (NoSuchMethodException e) {
        missing.add(m.getName());
      }
    }
    assertEquals(List.of(), missing, "RPCs that would answer UNIMPLEMENTED");
  }

  /** A request with {@code op} set to its default message (paths empty, so many are refused). */
  private static Request.Builder requestOf(Request.OpCase op) {
    Request.Builder request = Request.newBuilder();
    if (op != Request.OpCase.OP_NOT_SET) {
      FieldDescriptor field = Request.getDescriptor().findFieldByNumber(op.getNumber());
      request.setField(field, request.newBuilderForField(field).build());
    }
    return request;
  }
}
