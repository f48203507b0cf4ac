package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** Delete of a node that has children. Reason {@code NOT_EMPTY}. */
public class NotEmptyException extends SynodException {
  public NotEmptyException(String message, String path) {
    super(ErrorReason.NOT_EMPTY, message, path);
  }
}
