package dev.synod.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MultiResponse;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one place that decides which gRPC status code a failure gets. Each ErrorReason has exactly
 * one code (documented on the enum in synod.proto); the reason itself travels in the status
 * details as google.rpc.ErrorInfo and in the trailer {@code synod-error-reason}.
 */
public final class ErrorStatus {
  public static final String DOMAIN = "synod.dev";
  public static final Metadata.Key<String> REASON_KEY =
      Metadata.Key.of("synod-error-reason", Metadata.ASCII_STRING_MARSHALLER);

  private static final Map<ErrorReason, Status.Code> CODES = new EnumMap<>(ErrorReason.class);

  static {
    CODES.put(ErrorReason.NO_NODE, Status.Code.NOT_FOUND);
    CODES.put(ErrorReason.NODE_EXISTS, Status.Code.ALREADY_EXISTS);
    CODES.put(ErrorReason.BAD_VERSION, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.NOT_EMPTY, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.NO_CHILDREN_FOR_EPHEMERALS, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorReason.VALUE_TOO_LARGE, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorReason.SESSION_EXPIRED, Status.Code.NOT_FOUND);
    CODES.put(ErrorReason.SESSION_SECRET_MISMATCH, Status.Code.PERMISSION_DENIED);
    CODES.put(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorReason.TOO_MANY_WATCHES, Status.Code.RESOURCE_EXHAUSTED);
    CODES.put(ErrorReason.INVALID_ACL, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorReason.INVALID_TTL, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorReason.EPHEMERAL_NEEDS_SESSION, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.REQUEST_TOO_OLD, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.OVERLOADED, Status.Code.RESOURCE_EXHAUSTED);
    CODES.put(ErrorReason.RUNTIME_INCONSISTENCY, Status.Code.ABORTED);
    CODES.put(ErrorReason.SHUTTING_DOWN, Status.Code.UNAVAILABLE);
    CODES.put(ErrorReason.SESSION_ZXID_AHEAD, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.STORAGE_FAILURE, Status.Code.UNAVAILABLE);
    CODES.put(ErrorReason.PROTOCOL_VIOLATION, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.REQUEST_TOO_LARGE, Status.Code.RESOURCE_EXHAUSTED);
    CODES.put(ErrorReason.LEADER_UNAVAILABLE, Status.Code.UNAVAILABLE);
    CODES.put(ErrorReason.REQUEST_NO_REUSED, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorReason.OUT_OF_ORDER, Status.Code.ABORTED);
    CODES.put(ErrorReason.NO_AUTH, Status.Code.PERMISSION_DENIED);
    CODES.put(ErrorReason.AUTH_FAILED, Status.Code.UNAUTHENTICATED);
    CODES.put(ErrorReason.QUOTA_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED);
    CODES.put(ErrorReason.RESPONSE_TOO_LARGE, Status.Code.RESOURCE_EXHAUSTED);
    for (ErrorReason r : ErrorReason.values()) {
      if (r != ErrorReason.UNRECOGNIZED && r != ErrorReason.ERROR_REASON_UNSPECIFIED && !CODES.containsKey(r)) {
        throw new ExceptionInInitializerError("no status code for " + r);
      }
    }
  }

  private ErrorStatus() {}

  public static Status.Code codeOf(ErrorReason reason) {
    return CODES.getOrDefault(reason, Status.Code.UNKNOWN);
  }

  public static StatusRuntimeException of(Error error) {
    return of(error, null);
  }

  /** The status for a failed request; a failed multi also carries its per-op results. */
  public static StatusRuntimeException of(Error error, MultiResponse multi) {
    ErrorInfo.Builder info = ErrorInfo.newBuilder()
        .setDomain(DOMAIN)
        .setReason(error.getReason().name());
    if (!error.getPath().isEmpty()) {
      info.putMetadata("path", error.getPath());
    }
    if (multi != null) {
      for (int i = 0; i < multi.getResultsCount(); i++) {
        var r = multi.getResults(i);
        if (r.hasError() && r.getError().getReason() != ErrorReason.RUNTIME_INCONSISTENCY) {
          info.putMetadata("op_index", Integer.toString(i));
          break;
        }
      }
    }
    com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
        .setCode(codeOf(error.getReason()).value())
        .setMessage(error.getReason().name() + ": " + error.getMessage())
        .addDetails(Any.pack(info.build()));
    if (multi != null) {
      status.addDetails(Any.pack(multi));
    }
    Metadata trailers = new Metadata();
    trailers.put(REASON_KEY, error.getReason().name());
    return StatusProto.toStatusRuntimeException(status.build(), trailers);
  }

  /** Reads the machine-readable reason back out of a status (for tests and the Java client). */
  public static ErrorReason reasonOf(StatusRuntimeException e) {
    Metadata trailers = e.getTrailers();
    String name = trailers == null ? null : trailers.get(REASON_KEY);
    if (name == null) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      return ErrorReason.valueOf(name);
    } catch (IllegalArgumentException unknown) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
  }
}
