package dev.synod.tools.cli;

import dev.synod.api.v1.ErrorReason;
import dev.synod.client.AuthFailedException;
import dev.synod.client.BadVersionException;
import dev.synod.client.ClientClosedException;
import dev.synod.client.ConnectionLossException;
import dev.synod.client.InvalidPathException;
import dev.synod.client.MultiFailedException;
import dev.synod.client.NoAuthException;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeExistsException;
import dev.synod.client.NotEmptyException;
import dev.synod.client.QuotaExceededException;
import dev.synod.client.SessionExpiredException;
import dev.synod.client.SynodException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Translates what a command threw into the one-line message and exit code the user sees. */
final class Failures {
  /** What to print (without the "synod: " prefix) and the exit code. */
  record Report(int exitCode, String message) {}

  private Failures() {}

  static Report describe(Throwable thrown) {
    Throwable t = unwrap(thrown);
    if (t instanceof CliException c) {
      return new Report(c.exitCode(), c.getMessage());
    }
    if (t instanceof MultiFailedException m) {
      Report inner = describe(m.failure());
      return new Report(inner.exitCode(), "op " + (m.failedIndex() + 1) + " failed: " + inner.message()
          + " (nothing was applied)");
    }
    if (t instanceof NoNodeException e) {
      return new Report(ExitCodes.NO_NODE, "no such node: " + pathOr(e));
    }
    if (t instanceof NodeExistsException e) {
      return new Report(ExitCodes.NODE_EXISTS, "node already exists: " + pathOr(e));
    }
    if (t instanceof BadVersionException e) {
      return new Report(ExitCodes.BAD_VERSION, "version mismatch: " + pathOr(e));
    }
    if (t instanceof NotEmptyException e) {
      return new Report(ExitCodes.NOT_EMPTY, "node has children: " + pathOr(e) + " (delete-recursive deletes them too)");
    }
    if (t instanceof InvalidPathException e) {
      return new Report(ExitCodes.USAGE, "invalid path: " + serverMessage(e));
    }
    if (t instanceof NoAuthException e) {
      return new Report(ExitCodes.NO_AUTH, "not authorized: " + pathOr(e)
          + " (its ACL does not grant this; see getacl, and --auth or addauth)");
    }
    if (t instanceof AuthFailedException) {
      return new Report(ExitCodes.AUTH_FAILED, "authentication failed: the servers refused the credentials"
          + " (--auth, SYNOD_AUTH or addauth)");
    }
    if (t instanceof QuotaExceededException e) {
      return new Report(ExitCodes.QUOTA_EXCEEDED, "quota exceeded: " + serverMessage(e));
    }
    if (t instanceof SessionExpiredException) {
      return new Report(ExitCodes.SESSION_EXPIRED, "session expired");
    }
    if (t instanceof ConnectionLossException e) {
      return new Report(ExitCodes.UNAVAILABLE, "connection lost: " + e.getMessage());
    }
    if (t instanceof ClientClosedException) {
      return new Report(ExitCodes.UNAVAILABLE, "the connection was closed");
    }
    if (t instanceof SynodException e) {
      if (e.reason() == ErrorReason.NO_CHILDREN_FOR_EPHEMERALS) {
        return new Report(ExitCodes.ERROR, "ephemeral nodes cannot have children: " + pathOr(e));
      }
      if (e.reason() == ErrorReason.BAD_ARGUMENT || e.reason() == ErrorReason.INVALID_TTL
          || e.reason() == ErrorReason.VALUE_TOO_LARGE || e.reason() == ErrorReason.INVALID_ACL) {
        return new Report(ExitCodes.USAGE, e.getMessage());
      }
      return new Report(ExitCodes.ERROR, e.getMessage());
    }
    if (t instanceof InterruptedException) {
      return new Report(ExitCodes.INTERRUPTED, "interrupted");
    }
    if (t instanceof IOException || t instanceof UncheckedIOException) {
      return new Report(ExitCodes.ERROR, "I/O error: " + t.getMessage());
    }
    // Anything else is a bug of the CLI, not a user error: say what it is.
    return new Report(ExitCodes.ERROR, "internal error: " + t);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static String pathOr(SynodException e) {
    return e.path().isEmpty() ? serverMessage(e) : e.path();
  }

  /** The server's text without the "REASON: " prefix the SDK adds. */
  private static String serverMessage(SynodException e) {
    String m = String.valueOf(e.getMessage());
    String prefix = e.reason() + ": ";
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }
}
