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

  @Test
  void theClusterIdentityIsRecordedDurablyAndReadBack() throws IOException {
    Path root = tmp.resolve("data");
    try (DataDir dir = DataDir.open(root)) {
      assertEquals(java.util.Optional.empty(), dir.readIdentity(), "nothing recorded yet");
      dir.writeIdentity(ClusterIdentity.founder());
      assertEquals(java.util.Optional.of(ClusterIdentity.founder()), dir.readIdentity());
      ClusterIdentity known = ClusterIdentity.founder().withId(0x8000_0000_0000_002aL);
      dir.writeIdentity(known);
      assertEquals(java.util.Optional.of(new ClusterIdentity(0x8000_0000_0000_002aL, false)), dir.readIdentity(),
          "a negative 64-bit id survives; knowing the id ends founding");
      assertTrue(Files.readString(root.resolve("CLUSTER")).contains("cluster-id=800000000000002a"));
      assertTrue(!Files.exists(root.resolve("CLUSTER.tmp")), "written by rename");
    }
  }

  @Test
  void aDamagedClusterIdentityStopsTheServerRatherThanBeGuessed() throws IOException {
    Path root = tmp.resolve("data");
    try (DataDir dir = DataDir.open(root)) {
      Files.writeString(root.resolve("CLUSTER"), "cluster-id=12\nfounding=false\n");
      CorruptLogException e = assertThrows(CorruptLogException.class, dir::readIdentity);
      assertTrue(e.getMessage().contains("CLUSTER") && e.getMessage().contains("cluster-id"), e.getMessage());
    }
  }
}
