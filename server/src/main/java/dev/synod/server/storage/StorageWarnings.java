package dev.synod.server.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place the storage package reports a recovered problem (a torn tail, a bad snapshot). */
final class StorageWarnings {
  private static final Logger LOG = LoggerFactory.getLogger("dev.synod.server.storage");

  private StorageWarnings() {}

  static void warn(String message) {
    LOG.warn("storage: {}", message);
  }
}
