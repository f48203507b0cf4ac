package dev.synod.server.pipeline;

import com.google.protobuf.MessageLite;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;

/**
 * Keeps every answer within what a gRPC client accepts: 4 MiB per message unless it raised its
 * own limit (grpc-java, grpc-go and grpc-node all default to it). An answer that would not fit
 * is replaced by a RESPONSE_TOO_LARGE error naming its size, so the client gets a clear failure
 * instead of a broken stream that it would reconnect and re-send into, again and again.
 * GetChildren pages are bounded by bytes before they get here; this catches the rest.
 */
public final class AnswerSize {
  /** The default maximum inbound message size of gRPC clients. */
  public static final int CLIENT_MESSAGE_BYTES_MAX = 4 << 20;
  /** Room for the envelope around an answer (ServerMessage, gRPC framing). */
  private static final int ENVELOPE_BYTES = 1 << 10;

  private AnswerSize() {}

  public static boolean fits(MessageLite answer) {
    return answer.getSerializedSize() <= CLIENT_MESSAGE_BYTES_MAX - ENVELOPE_BYTES;
  }

  /** The error for an answer that does not fit; {@code appliedZxid} > 0 for a write that applied. */
  public static Error tooLarge(String what, int bytes, long appliedZxid) {
    return Error.newBuilder()
        .setReason(ErrorReason.RESPONSE_TOO_LARGE)
        .setMessage("the answer to " + what + " would be " + bytes + " bytes, over the "
            + CLIENT_MESSAGE_BYTES_MAX + " a gRPC client accepts; "
            + (appliedZxid > 0 ? "the write was applied (zxid " + appliedZxid + "); " : "")
            + "ask for less at once (a smaller value, fewer ops in one multi)")
        .build();
  }

  /** The stream's response, or an error in its place when it would not fit. */
  public static Response bounded(Response response) {
    if (fits(response)) {
      return response;
    }
    boolean write = switch (response.getResultCase()) {
      case CREATE, DELETE, SET_DATA, MULTI, SET_ACL -> true;
      default -> false;
    };
    return Response.newBuilder()
        .setRequestNo(response.getRequestNo())
        .setZxid(response.getZxid())
        .setError(tooLarge("request " + Long.toUnsignedString(response.getRequestNo()),
            response.getSerializedSize(), write ? response.getZxid() : 0))
        .build();
  }
}
