package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** The server's QUOTA_EXCEEDED: see ErrorReason.QUOTA_EXCEEDED in synod.proto. */
public final class QuotaExceededException extends SynodException {
  public QuotaExceededException(String message, String path) {
    super(ErrorReason.QUOTA_EXCEEDED, message, path);
  }
}
