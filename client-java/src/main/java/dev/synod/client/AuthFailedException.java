package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** The server's AUTH_FAILED: see ErrorReason.AUTH_FAILED in synod.proto. */
public final class AuthFailedException extends SynodException {
  public AuthFailedException(String message, String path) {
    super(ErrorReason.AUTH_FAILED, message, path);
  }
}
