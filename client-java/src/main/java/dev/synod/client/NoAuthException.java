package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** The server's NO_AUTH: see ErrorReason.NO_AUTH in synod.proto. */
public final class NoAuthException extends SynodException {
  public NoAuthException(String message, String path) {
    super(ErrorReason.NO_AUTH, message, path);
  }
}
