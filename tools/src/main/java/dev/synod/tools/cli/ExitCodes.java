package dev.synod.tools.cli;

/**
 * The exit codes of {@code synod}, one per kind of failure, so scripts can branch on them. {@code
 * lock} and {@code elect} exit with their command's own code when it ran.
 */
final class ExitCodes {
  static final int OK = 0;
  /** A failure without a code of its own (a server error such as OVERLOADED, an I/O error). */
  static final int ERROR = 1;
  /** Bad arguments: unknown option, malformed path or duration, unreadable input file. */
  static final int USAGE = 2;
  static final int NO_NODE = 3;
  static final int NODE_EXISTS = 4;
  static final int BAD_VERSION = 5;
  static final int NOT_EMPTY = 6;
  /** No server could be reached, or the connection was lost and the outcome is unknown. */
  static final int UNAVAILABLE = 7;
  static final int SESSION_EXPIRED = 8;
  /** {@code lock --timeout} / {@code elect --timeout}: not acquired in time. */
  static final int NOT_ACQUIRED = 9;
  /** The lock or the leadership was lost while the command ran; the command was stopped. */
  static final int LOST = 10;
  /** The node's ACL does not allow this (NO_AUTH): prove an identity with --auth or addauth. */
  static final int NO_AUTH = 11;
  /** The servers refused the credentials of --auth / SYNOD_AUTH / addauth (AUTH_FAILED). */
  static final int AUTH_FAILED = 12;
  /** The write would exceed a subtree's hard quota (QUOTA_EXCEEDED). */
  static final int QUOTA_EXCEEDED = 13;
  /** Interrupted (Ctrl-C), as shells report SIGINT. */
  static final int INTERRUPTED = 130;

  private ExitCodes() {}
}
