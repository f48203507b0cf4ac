package dev.synod.server.storage;

/** The one place the storage package reports a recovered problem (a torn tail, a bad snapshot). */
final class StorageWarnings {
  private StorageWarnings() {}

  static void warn(String message) {
    System.err.println("synod: warning: storage: " + message);
  }
}
