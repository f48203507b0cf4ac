package dev.synod.server.state;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.OpResult;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a failed multi is reported: {@code Response.error} is the failing op's error, its message
 * prefixed with "op N: " (N counts from 0), and {@code Response.multi} holds the per-op results by
 * ZooKeeper's rule (the failing op has its error, every other op RUNTIME_INCONSISTENCY).
 */
public final class MultiFailure {
  private static final Pattern PREFIX = Pattern.compile("^op (\\d+): ");

  private MultiFailure() {}

  /** The Response.error of a multi whose op {@code index} failed with {@code opError}. */
  public static Error responseError(int index, Error opError) {
    return opError.toBuilder().setMessage("op " + index + ": " + opError.getMessage()).build();
  }

  /** The index of the failing op, if {@code responseError} is a failed multi's error. */
  public static OptionalInt failedOpIndex(Error responseError) {
    Matcher m = PREFIX.matcher(responseError.getMessage());
    return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
  }

  /**
   * The per-op results of a multi of {@code opCount} ops that failed with {@code responseError}:
   * the failing op's own error (without the prefix) and RUNTIME_INCONSISTENCY for every other op.
   */
  public static MultiResponse perOpResults(int opCount, Error responseError) {
    int failed = failedOpIndex(responseError).orElseThrow(
        () -> new IllegalArgumentException("not a multi failure: " + responseError.getMessage()));
    Error opError = responseError.toBuilder()
        .setMessage(PREFIX.matcher(responseError.getMessage()).replaceFirst(""))
        .build();
    MultiResponse.Builder results = MultiResponse.newBuilder();
    for (int i = 0; i < opCount; i++) {
      results.addResults(OpResult.newBuilder().setError(i == failed ? opError : rolledBack(i, failed)));
    }
    return results.build();
  }

  private static Error rolledBack(int index, int failed) {
    String message = index < failed
        ? "rolled back: op " + failed + " failed"
        : "not applied: op " + failed + " failed";
    return Error.newBuilder()
        .setReason(ErrorReason.RUNTIME_INCONSISTENCY).setMessage(message).build();
  }
}
