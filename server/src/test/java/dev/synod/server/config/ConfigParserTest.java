package dev.synod.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigParserTest {
  @TempDir Path dir;

  @Test
  void defaultsFlagsAndFileCombineFlagsWinning() throws Exception {
    Path file = dir.resolve("synod.properties");
    Files.writeString(file, "port=9000\ndata-bytes-max=2m\nsession-timeout-max-ms=30000\n");
    ServerConfig c = ConfigParser.parse("--config", file.toString(), "--port=9100", "--data-dir", "/tmp/x");
    assertEquals(9100, c.port());
    assertEquals(2 << 20, c.dataBytesMax());
    assertEquals(30_000, c.sessionTimeoutMaxMs());
    assertEquals(Path.of("/tmp/x"), c.dataDir());
    assertEquals(ServerConfig.defaults().pendingWritesMax(), c.pendingWritesMax());
  }

  @Test
  void unknownOrBadSettingsAreErrorsNamingTheSetting() {
    var unknown = assertThrows(IllegalArgumentException.class, () -> ConfigParser.parse("--prot", "1"));
    assertTrue(unknown.getMessage().contains("prot"));
    var bad = assertThrows(IllegalArgumentException.class, () -> ConfigParser.parse("--port", "abc"));
    assertTrue(bad.getMessage().contains("port"));
    var range = assertThrows(IllegalArgumentException.class,
        () -> ConfigParser.parse("--session-timeout-min-ms", "5000", "--session-timeout-max-ms", "1000"));
    assertTrue(range.getMessage().contains("session-timeout-max-ms"));
    assertThrows(IllegalArgumentException.class, () -> ConfigParser.parse("--port"));
  }

  @Test
  void timeoutsAreNegotiatedIntoBounds() {
    ServerConfig c = ServerConfig.defaults();
    assertEquals(c.sessionTimeoutDefaultMs(), c.negotiateTimeoutMs(0));
    assertEquals(c.sessionTimeoutMinMs(), c.negotiateTimeoutMs(1));
    assertEquals(c.sessionTimeoutMaxMs(), c.negotiateTimeoutMs(Long.MAX_VALUE));
    assertEquals(5_000, c.negotiateTimeoutMs(5_000));
  }

  @Test
  void usageListsEverySetting() {
    String usage = ConfigParser.usage();
    for (var component : ServerConfig.class.getRecordComponents()) {
      assertTrue(usage.contains("--" + ConfigParser.kebab(component.getName())), component.getName());
    }
  }
}
