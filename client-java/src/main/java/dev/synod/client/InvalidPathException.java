package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** A malformed path. Reason {@code INVALID_PATH}. */
public class InvalidPathException extends SynodException {
  public InvalidPathException(String message, String path) {
    super(ErrorReason.INVALID_PATH, message, path);
  }
}
