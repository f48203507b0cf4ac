package dev.synod.client;

import dev.synod.api.v1.ErrorReason;

/** The client was closed (before or while the call was pending). */
public class ClientClosedException extends SynodException {
  public ClientClosedException() {
    super(ErrorReason.ERROR_REASON_UNSPECIFIED, "the client is closed", null);
  }
}
