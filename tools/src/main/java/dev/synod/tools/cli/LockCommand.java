package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.recipes.Lease;
import dev.synod.client.recipes.Mutex;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lock PATH -- COMMAND...}: holds a {@link Mutex} while the command runs, then releases
 * it. Exits with the command's code; the command is stopped (exit 10) if the lock is lost.
 */
@Command(name = "lock", description = {"Hold a lock while running a command; exit with its exit code.",
    "The command gets the lock's fencing token in $SYNOD_FENCING_TOKEN and is stopped if the lock is lost.",
    "Put -- before the command when it has options: synod lock /locks/job -- sh -c 'run-job'"})
final class LockCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The lock (e.g. /locks/backup).")
  String path;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments.")
  List<String> command;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Give up (exit 9) if the lock is not acquired within this long (default: wait).")
  Duration timeout;

  @Override
  public Integer call() throws InterruptedException {
    checkPath(path);
    Mutex mutex = new Mutex(client(), path);
    Printer p = printer();
    Lease lease;
    if (timeout == null) {
      lease = mutex.acquire();
    } else {
      Optional<Lease> got = mutex.tryAcquire(timeout);
      if (got.isEmpty()) {
        throw new CliException(ExitCodes.NOT_ACQUIRED, "lock " + path + " not acquired within " + timeout.toMillis() + " ms");
      }
      lease = got.get();
    }
    try (lease) {
      if (p.json()) {
        JsonObject o = new JsonObject();
        o.addProperty("path", path);
        o.addProperty("node", lease.nodePath());
        o.addProperty("fencing_token", lease.fencingToken());
        p.json(o);
      } else {
        p.note("synod: holding lock " + path + " (fencing token " + lease.fencingToken() + ")");
      }
      GuardedCommand run = new GuardedCommand(ctx(), command);
      lease.onLost(run::lost);
      return run.run(lease.fencingToken(), "lock " + path);
    }
  }
}
