package dev.synod.tools.cli;

/**
 * A failure the CLI reports as one line on stderr with its exit code, never as a stack trace:
 * bad input found by the CLI itself (before anything reaches a server), or a translated SDK error.
 */
final class CliException extends RuntimeException {
  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  static CliException usage(String message) {
    return new CliException(ExitCodes.USAGE, message);
  }

  int exitCode() {
    return exitCode;
  }
}
