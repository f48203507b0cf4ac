package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code synod backup FILE} and {@code synod backup --inspect FILE} against a real server. */
class BackupCommandTest extends OneServerCliTest {
  @Test
  void backupSavesACheckedFileThatInspectDescribes() throws Exception {
    CliCommandsTest.ok("create", "/backed-up", "v1");
    CliCommandsTest.ok("create", "/backed-up/child", "v2");
    Path file = dir.resolve("one.backup");
    CliRunner.Result taken = CliCommandsTest.ok("backup", file.toString());
    assertTrue(taken.out().startsWith(file + ": zxid "), taken.out());
    assertTrue(taken.out().contains("(checked)"), taken.out());
    JsonObject inspected = CliCommandsTest.json("backup", "--inspect", file.toString(), "--json");
    assertTrue(inspected.get("nodes").getAsLong() >= 3, inspected.toString()); // the root, and ours
    assertEquals(Files.size(file), inspected.get("file_bytes").getAsLong());
    assertEquals(64, inspected.get("sha256").getAsString().length());
    CliCommandsTest.ok("backup", "--local", dir.resolve("local.backup").toString());
  }

  @Test
  void aDamagedFileIsRefusedWithOneLine() throws Exception {
    Path file = dir.resolve("damaged.backup");
    CliCommandsTest.ok("backup", file.toString());
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 5));
    String err = CliCommandsTest.fails(ExitCodes.ERROR, "backup", "--inspect", file.toString());
    assertTrue(err.contains("damaged") || err.contains("cut short"), err);
    String missing = CliCommandsTest.fails(ExitCodes.USAGE, "backup", "--inspect", dir.resolve("nope").toString());
    assertTrue(missing.contains("cannot read"), missing);
  }
}
