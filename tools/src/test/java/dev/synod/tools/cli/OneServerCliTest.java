package dev.synod.tools.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI test classes' shared setting: one real server (over loopback) for the whole class, and
 * a runner of the CLI in this JVM pointed at it. Test classes run one after another.
 */
abstract class OneServerCliTest {
  @TempDir static Path dir;
  static TestServer server;
  static CliRunner cli;

  @BeforeAll
  static void startServer() throws Exception {
    server = new TestServer(dir.resolve("server"));
    cli = new CliRunner(server.address(), dir.resolve("history"));
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
      server = null;
    }
  }
}
