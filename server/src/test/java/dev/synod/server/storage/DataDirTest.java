package dev.synod.server.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirTest {
  @TempDir Path tmp;

  @Test
  void createsTheLayout() throws IOException {
    Path root = tmp.resolve("data");
    try (DataDir dir = DataDir.open(root)) {
      assertEquals(root.resolve("log"), dir.logDir());
      assertEquals(root.resolve("snapshots"), dir.snapshotDir());
      assertTrue(Files.isDirectory(dir.logDir()));
      assertTrue(Files.isDirectory(dir.snapshotDir()));
      assertTrue(Files.exists(root.resolve("LOCK")));
      Disk.REAL.fsyncDirectory(dir.logDir());
    }
  }

  @Test
  void aSecondOpenIsRefusedUntilTheFirstCloses() throws IOException {
    Path root = tmp.resolve("data");
    try (DataDir first = DataDir.open(root)) {
      IOException e = assertThrows(IOException.class, () -> DataDir.open(root));
      assertEquals(
          "data directory " + root.toAbsolutePath() + " is in use by another Synod process",
          e.getMessage());
    }
    DataDir.open(root).close();
  }
}
