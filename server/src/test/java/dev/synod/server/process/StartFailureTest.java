package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.Main;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an operator sees when synod-server cannot start: one line on stderr saying what is wrong,
 * never a stack trace, and an exit code that tells the cause (see {@link Main}).
 */
class StartFailureTest {
  @TempDir Path dir;

  /** The exit code, once all the process printed has been read. */
  private static int exit(ServerProcess p) throws InterruptedException {
    int code = p.awaitExit();
    try {
      p.awaitPort(); // completes (exceptionally) once its output reader reached the end
    } catch (Exception endOfOutput) {
      // expected: it never listened
    }
    return code;
  }

  private static void assertOneLine(ServerProcess p, String expectedStart) {
    List<String> lines = p.output;
    assertEquals(1, lines.size(), "one line, no stack trace: " + lines);
    assertTrue(lines.get(0).startsWith(expectedStart), lines.get(0));
    assertFalse(lines.get(0).contains("Exception"), lines.get(0));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "1=127.0.0.1:abc,2=127.0.0.1:7181",
      "1=127.0.0.1:99999,2=127.0.0.1:7181",
      "1=127.0.0.1:7171,2=127.0.0.1:x",
      "1=127.0.0.1:7171,2=:7181",
      "1=127.0.0.1:7171;2=127.0.0.1:7181",
      "1=127.0.0.1:7171,2=127.0.0.1:7171",
      "1=127.0.0.1:,2=127.0.0.1:7181",
      "2=127.0.0.1:7181,3=127.0.0.1:7191",
      "x"})
  void aBadMemberListIsOneLineAndExitCode2(String members) throws Exception {
    Path data = dir.resolve("data");
    ServerProcess p = ServerProcess.start(data, "--members", members, "--initial-cluster-state", "new");
    assertEquals(Main.EXIT_BAD_SETTINGS, exit(p), p.output.toString());
    assertOneLine(p, "synod: members");
    assertFalse(Files.exists(data), "nothing was created on disk");
  }

  @Test
  void aPortInUseIsOneLineWithItsOwnExitCode() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ServerProcess p = ServerProcess.start(dir.resolve("data"), "--port", Integer.toString(taken.getLocalPort()));
      int code = exit(p);
      assertEquals(Main.EXIT_CANNOT_LISTEN, code, p.output.toString());
      assertTrue(code != Main.EXIT_DATA, "3 means the data cannot be trusted");
      assertOneLine(p, "synod: cannot listen: ");
      assertTrue(p.output.get(0).contains(Integer.toString(taken.getLocalPort())), p.output.get(0));
      assertTrue(p.output.get(0).contains("is another server using the port?"), p.output.get(0));
    }
  }

  @Test
  void helpShowsSizeSuffixesAndHidesTestOnlySettings() throws IOException, InterruptedException {
    ServerProcess p = ServerProcess.start(dir.resolve("data"), "--help");
    assertEquals(0, exit(p));
    String help = String.join("\n", p.output);
    assertTrue(help.contains("take a suffix k, m or g"), help);
    assertTrue(help.matches("(?s).*--request-bytes-max .*\\(default: 4m\\).*"), help);
    assertTrue(help.matches("(?s).*--data-bytes-max .*\\(default: 1m\\).*"), help);
    assertFalse(help.contains("test-crash-point"), help);
    assertTrue(help.matches("(?s).*--peer-port [^\\n]*with members set, a member listens on the port of its"
        + " own entry.*"), help);
    assertTrue(help.contains("Exit codes: 0 stopped"), help);
    assertTrue(help.contains(Main.EXIT_CANNOT_LISTEN + " a port cannot be listened on"), help);
  }
}
