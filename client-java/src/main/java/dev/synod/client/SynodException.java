package dev.synod.client;

import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;

/**
 * Base of every failure the client reports. Unchecked: synchronous methods throw it, and
 * asynchronous ones complete their future exceptionally with it (wrapped by
 * CompletableFuture#join/get as the cause). {@link #reason()} is the server's machine-readable
 * reason ({@code ERROR_REASON_UNSPECIFIED} for client-side failures such as a closed client).
 */
public class SynodException extends RuntimeException {
  private final ErrorReason reason;
  private final String path;

  public SynodException(ErrorReason reason, String message, String path) {
    this(reason, message, path, null);
  }

  public SynodException(ErrorReason reason, String message, String path, Throwable cause) {
    super(message, cause);
    this.reason = reason == null ? ErrorReason.ERROR_REASON_UNSPECIFIED : reason;
    this.path = path == null ? "" : path;
  }

  /** The server's machine-readable reason; ERROR_REASON_UNSPECIFIED for client-side failures. */
  public ErrorReason reason() {
    return reason;
  }

  /** The path concerned, or "" when there is none. */
  public String path() {
    return path;
  }

  /** The typed exception for a server Error. */
  public static SynodException of(Error error) {
    String m = error.getReason() + ": " + error.getMessage();
    String p = error.getPath();
    return switch (error.getReason()) {
      case NO_NODE -> new NoNodeException(m, p);
      case NODE_EXISTS -> new NodeExistsException(m, p);
      case BAD_VERSION -> new BadVersionException(m, p);
      case NOT_EMPTY -> new NotEmptyException(m, p);
      case INVALID_PATH -> new InvalidPathException(m, p);
      case SESSION_EXPIRED -> new SessionExpiredException(m);
      case NO_AUTH -> new NoAuthException(m, p);
      case AUTH_FAILED -> new AuthFailedException(m, p);
      case QUOTA_EXCEEDED -> new QuotaExceededException(m, p);
      default -> new SynodException(error.getReason(), m, p);
    };
  }

  /** Unwraps CompletionException/ExecutionException layers to the SynodException inside. */
  static RuntimeException unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
        || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof SynodException s) {
      // Re-throw a copy-free original: keeps the type the caller catches.
      return s;
    }
    if (c instanceof RuntimeException r) {
      return r;
    }
    return new SynodException(ErrorReason.ERROR_REASON_UNSPECIFIED, String.valueOf(c), null, c);
  }
}
