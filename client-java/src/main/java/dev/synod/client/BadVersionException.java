package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** A version condition did not hold. Reason {@code BAD_VERSION}. */
public class BadVersionException extends SynodException {
  public BadVersionException(String message, String path) {
    super(ErrorReason.BAD_VERSION, message, path);
  }
}
