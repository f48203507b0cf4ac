package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** Create of a path that already exists. Reason {@code NODE_EXISTS}. */
public class NodeExistsException extends SynodException {
  public NodeExistsException(String message, String path) {
    super(ErrorReason.NODE_EXISTS, message, path);
  }
}
