package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** The node (or, for create, its parent) does not exist. Reason {@code NO_NODE}. */
public class NoNodeException extends SynodException {
  public NoNodeException(String message, String path) {
    super(ErrorReason.NO_NODE, message, path);
  }
}
