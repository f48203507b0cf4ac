package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/**
 * No server could be reached (or none could apply the request) within the retry policy. For a
 * write the outcome is unknown: it may or may not have been applied.
 */
public class ConnectionLossException extends SynodException {
  public ConnectionLossException(String message, Throwable cause) {
    super(ErrorReason.ERROR_REASON_UNSPECIFIED, message, null, cause);
  }
}
