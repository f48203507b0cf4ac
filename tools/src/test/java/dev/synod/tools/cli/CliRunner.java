package dev.synod.tools.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs the CLI in-process (picocli's CommandLine over a CliContext) with captured streams. */
final class CliRunner {
  /** What one run printed and its exit code. */
  record Result(int code, String out, String err) {
    List<String> lines() {
      return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }
  }

  private final String servers;
  private final Path historyFile;

  CliRunner(String servers, Path historyFile) {
    this.servers = servers;
    this.historyFile = historyFile;
  }

  Result run(String... args) {
    return runWithInput("", args);
  }

  Result runWithInput(String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SyncBuffer err = new SyncBuffer();
    int code = runTo(stdin, out, err, args);
    return new Result(code, out.toString(UTF_8), err.toString());
  }

  /** Runs with the caller's streams (for a command that runs while the test does other things). */
  int runTo(String stdin, OutputStream out, OutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of("-s", servers, "--connect-timeout", "3s"));
    all.addAll(List.of(args));
    try (CliContext ctx = new CliContext(new ByteArrayInputStream(stdin.getBytes(UTF_8)), out, err)) {
      ctx.historyFile(historyFile);
      return SynodCli.commandLine(ctx).execute(all.toArray(String[]::new));
    }
  }

  /** An output buffer another thread may read while the command writes it. */
  static final class SyncBuffer extends OutputStream {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      buf.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      buf.write(b, off, len);
    }

    @Override
    public synchronized String toString() {
      return buf.toString(UTF_8);
    }
  }
}
