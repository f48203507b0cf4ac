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
  void usageListsEverySettingButTheTestOnlyOnes() {
    String usage = ConfigParser.usage();
    for (var component : ServerConfig.class.getRecordComponents()) {
      String name = ConfigParser.kebab(component.getName());
      assertEquals(!name.startsWith("test-"), usage.contains("--" + name), name);
    }
  }

  @Test
  void usageShowsSizesWithTheirSuffix() {
    assertEquals("4m", ConfigParser.sizeText(4 << 20));
    assertEquals("64m", ConfigParser.sizeText(64L << 20));
    assertEquals("1g", ConfigParser.sizeText(1L << 30));
    assertEquals("3k", ConfigParser.sizeText(3 << 10));
    assertEquals("4097", ConfigParser.sizeText(4097));
    assertEquals("0", ConfigParser.sizeText(0));
    assertTrue(ConfigParser.usage().matches("(?s).*--batch-bytes-max .*\\(default: 4m\\).*"));
  }
}
