package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.ConnectionState;
import dev.synod.client.SynodClient;
import dev.synod.client.WatchedEvent;
import dev.synod.client.Watcher;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one-shot watch that {@code get -w}, {@code ls -w} and {@code stat -w} leave, as zkCli's
 * {@code -w}: in the shell, the event is printed when it fires ("WATCHER:: ..." on stderr, while
 * the shell goes on); as a command of its own, the command waits for it and prints it, so a script
 * can wait for the next change of a node.
 */
final class OneShotWatch {
  private final CompletableFuture<WatchedEvent> fired = new CompletableFuture<>();
  private final Printer printer;
  private final boolean interactive;

  OneShotWatch(CliContext ctx, Printer printer) {
    this.printer = printer;
    this.interactive = ctx.interactive();
  }

  /** The watcher to pass to the read. */
  Watcher watcher() {
    return event -> {
      if (interactive) {
        printer.note("WATCHER:: " + describe(event));
      }
      fired.complete(event);
    };
  }

  /** Outside the shell: waits until the watch fires and prints the event. */
  void awaitIfNotInteractive(SynodClient client) {
    if (interactive) {
      return;
    }
    printer.note("synod: waiting for the watch on this read to fire (Ctrl-C to stop)");
    WatchedEvent e;
    while (true) {
      try {
        e = fired.get(200, TimeUnit.MILLISECONDS);
        break;
      } catch (TimeoutException notYet) {
        ConnectionState s = client.state();
        if (s == ConnectionState.EXPIRED) {
          throw new CliException(ExitCodes.SESSION_EXPIRED, "session expired; the watch ended");
        }
        if (s == ConnectionState.CLOSED) {
          throw new CliException(ExitCodes.UNAVAILABLE, "the connection was closed; the watch ended");
        }
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        throw new CliException(ExitCodes.INTERRUPTED, "interrupted");
      } catch (java.util.concurrent.ExecutionException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    if (printer.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("event", e.type().name());
      o.addProperty("path", e.path());
      o.addProperty("zxid", e.zxid());
      printer.json(o);
    } else {
      printer.line("WATCHER:: " + describe(e));
    }
  }

  private static String describe(WatchedEvent e) {
    return e.type().name() + " " + e.path() + " (zxid " + e.zxid() + ")";
  }
}
