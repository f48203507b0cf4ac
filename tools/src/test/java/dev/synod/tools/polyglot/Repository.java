package dev.synod.tools.polyglot;

import java.nio.file.Files;
import java.nio.file.Path;

/** The checkout these tests run in: the directory holding proto/, README.md and the clients. */
public final class Repository {
  private Repository() {}

  /** Found upwards from the working directory (Maven runs a module's tests in the module). */
  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.exists(d.resolve("proto/src/main/proto/synod/v1/synod.proto"))) {
        return d;
      }
    }
    throw new IllegalStateException("no Synod repository above " + dir);
  }
}
