package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/**
 * A call was not answered within its deadline ({@link SynodClient#withDeadline}, or the builder's
 * {@code defaultDeadline}). The client has forgotten the request and never sends it again; for a
 * write the outcome is unknown: it may or may not have been applied.
 */
public class DeadlineExceededException extends SynodException {
  public DeadlineExceededException(String message, String path) {
    super(ErrorReason.ERROR_REASON_UNSPECIFIED, message, path);
  }
}
