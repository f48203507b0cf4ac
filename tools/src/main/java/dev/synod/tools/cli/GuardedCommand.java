package dev.synod.tools.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a user's command while something is held (a lock, leadership) and stops it if that is lost:
 * a command that believes it holds a lock must not go on running once it does not. The command
 * gets the fencing token in {@code SYNOD_FENCING_TOKEN}.
 */
final class GuardedCommand {
  /** The environment variable that carries the fencing token to the command. */
  static final String TOKEN_ENV = "SYNOD_FENCING_TOKEN";
  private static final long STOP_GRACE_MS = 5000;

  private final CliContext ctx;
  private final List<String> command;
  private final AtomicBoolean lost = new AtomicBoolean();
  private final CountDownLatch lostSignal = new CountDownLatch(1);

  GuardedCommand(CliContext ctx, List<String> command) {
    this.ctx = ctx;
    this.command = List.copyOf(command);
  }

  /** Call when the lock or leadership is lost (from any thread, any number of times). */
  void lost() {
    if (lost.compareAndSet(false, true)) {
      lostSignal.countDown();
    }
  }

  /**
   * Runs the command to its end and returns its exit code; {@link ExitCodes#LOST} if it was stopped
   * because the guard was lost. Interrupting the caller (Ctrl-C in the shell) stops the command too.
   */
  int run(long fencingToken, String what) throws InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put(TOKEN_ENV, Long.toString(fencingToken));
    boolean terminal = ctx.usesSystemStreams();
    if (terminal) {
      pb.inheritIO();
    }
    Process child;
    try {
      child = pb.start();
    } catch (IOException e) {
      throw new CliException(ExitCodes.USAGE, "cannot run " + command.get(0) + ": " + e.getMessage());
    }
    Thread[] pumps = terminal ? new Thread[0] : new Thread[] {
        pump(child.getInputStream(), ctx.rawOut, ctx.out), pump(child.getErrorStream(), null, ctx.err)};
    if (!terminal) {
      try {
        child.getOutputStream().close(); // no stdin for the command when the CLI itself is embedded
      } catch (IOException ignored) {
        // the child may already be gone
      }
    }
    Thread watcher = new Thread(() -> {
      try {
        lostSignal.await();
        stop(child);
      } catch (InterruptedException ignored) {
        // the command ended first
      }
    }, "synod-guard");
    watcher.setDaemon(true);
    watcher.start();
    try {
      int code = child.waitFor();
      for (Thread t : pumps) {
        t.join(STOP_GRACE_MS);
      }
      if (lost.get()) {
        ctx.err.println("synod: " + what + " lost while the command ran; it was stopped (or had just ended)");
        ctx.err.flush();
        return ExitCodes.LOST;
      }
      return code;
    } catch (InterruptedException e) {
      stop(child);
      throw e;
    } finally {
      watcher.interrupt();
    }
  }

  private static void stop(Process child) {
    child.destroy();
    try {
      if (!child.waitFor(STOP_GRACE_MS, TimeUnit.MILLISECONDS)) {
        child.destroyForcibly();
      }
    } catch (InterruptedException e) {
      child.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Copies a child's output to ours (when the CLI runs embedded, e.g. in tests). */
  private static Thread pump(InputStream from, OutputStream raw, java.io.PrintWriter writer) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = from.read(buf)) > 0) {
          if (raw != null) {
            writer.flush();
            raw.write(buf, 0, n);
            raw.flush();
          } else {
            writer.print(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
            writer.flush();
          }
        }
      } catch (IOException ignored) {
        // the child closed its end
      }
    }, "synod-child-output");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
