package dev.synod.tools.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where a node's value comes from on the command line: the argument itself, {@code @FILE} (the
 * file's bytes), {@code -} (all of stdin), or {@code @@text} for a literal value starting with
 * {@code @}. No argument is an empty value.
 */
final class DataSource {
  private DataSource() {}

  static byte[] read(String arg, InputStream stdin) {
    if (arg == null) {
      return new byte[0];
    }
    if (arg.equals("-")) {
      try {
        return stdin.readAllBytes();
      } catch (IOException e) {
        throw new CliException(ExitCodes.ERROR, "cannot read stdin: " + e.getMessage());
      }
    }
    if (arg.startsWith("@@")) {
      return arg.substring(1).getBytes(StandardCharsets.UTF_8);
    }
    if (arg.startsWith("@")) {
      Path file = Path.of(arg.substring(1));
      try {
        return Files.readAllBytes(file);
      } catch (NoSuchFileException e) {
        throw CliException.usage("no such file: " + file);
      } catch (IOException e) {
        throw CliException.usage("cannot read " + file + ": " + e.getMessage());
      }
    }
    return arg.getBytes(StandardCharsets.UTF_8);
  }
}
