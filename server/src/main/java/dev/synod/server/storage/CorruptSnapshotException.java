package dev.synod.server.storage;

import java.io.IOException;

/**
 * Snapshot files exist but none of them is readable and verified. Starting from an empty tree
 * instead would silently drop data, so the server must not start.
 */
public final class CorruptSnapshotException extends IOException {
  private static final long serialVersionUID = 1L;

  public CorruptSnapshotException(String message) {
    super(message);
  }
}
