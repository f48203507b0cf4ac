package dev.synod.tools.polyglot;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One of the repository's {@code client-<language>/} scripts (run-example.sh, the package
 * builders), run as a subprocess with a time limit. Its standard output and error are captured together, in order.
 */
final class ExampleScript {
  private final Path script;

  private ExampleScript(Path script) {
    this.script = script;
  }

  /** The run-example.sh of {@code client-<language>/} in the repository this test runs in. */
  static ExampleScript of(String clientDir) {
    return of(clientDir, "run-example.sh");
  }

  /** The script {@code name} of {@code client-<language>/} (a .py one runs with /usr/bin/python3). */
  static ExampleScript of(String clientDir, String name) {
    Path script = Repository.root().resolve(clientDir).resolve(name);
    if (!Files.isExecutable(script)) {
      fail(script + " is missing or not executable");
    }
    return new ExampleScript(script);
  }

  /** What one run printed and how it exited. */
  record Result(int exitCode, String output) {
    List<String> lines() {
      return output.lines().toList();
    }
  }

  /**
   * Runs the script with {@code args}, kills it (and what it started) if it outlives
   * {@code limit}, and fails the test in that case with everything it printed so far.
   */
  Result run(Duration limit, Path outputFile, String... args) throws IOException, InterruptedException {
    String interpreter = script.toString().endsWith(".py") ? "/usr/bin/python3" : "bash";
    List<String> command = new ArrayList<>(List.of(interpreter, script.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(outputFile.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
    boolean exited = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      fail(script + " did not finish within " + limit.toSeconds() + " s; its output:\n"
          + Files.readString(outputFile, StandardCharsets.UTF_8));
    }
    return new Result(process.exitValue(), Files.readString(outputFile, StandardCharsets.UTF_8));
  }
}
