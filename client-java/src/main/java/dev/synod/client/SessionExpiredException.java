package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/**
 * The session is gone (expired, or closed): its ephemeral nodes are deleted and its watches
 * dropped. The client stays EXPIRED until {@link SynodClient#restartSession()} (or the builder's
 * {@code reconnectAfterExpiry}).
 */
public class SessionExpiredException extends SynodException {
  public SessionExpiredException(String message) {
    super(ErrorReason.SESSION_EXPIRED, message, null);
  }
}
