package dev.synod.server.state;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;

/**
 * An expected failure of a client's request, with its machine-readable reason. The gRPC layer
 * maps the reason to a status code; nothing else decides codes.
 */
public final class SynodException extends Exception {
  private static final long serialVersionUID = 1L;

  private final ErrorReason reason;
  private final String path;

  public SynodException(ErrorReason reason, String message) {
    this(reason, message, "");
  }

  /** A failure concerning {@code path}; the message names it (it is prefixed when it does not). */
  public SynodException(ErrorReason reason, String message, String path) {
    super(path == null || path.isEmpty() || message.contains(path) ? message : path + ": " + message,
        null, false, false);
    this.reason = reason;
    this.path = path == null ? "" : path;
  }

  public ErrorReason reason() {
    return reason;
  }

  public String path() {
    return path;
  }

  public Error toError() {
    return Error.newBuilder().setReason(reason).setMessage(getMessage()).setPath(path).build();
  }

  public static SynodException of(Error error) {
    return new SynodException(error.getReason(), error.getMessage(), error.getPath());
  }
}
