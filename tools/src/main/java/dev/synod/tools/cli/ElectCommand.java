package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.recipes.LeaderLatch;
import dev.synod.client.recipes.LeaderLatchListener;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code elect PATH ID -- COMMAND...}: joins the election at PATH as ID, waits to lead, runs the
 * command while leading, then steps down. Exits with the command's code; the command is stopped
 * (exit 10) if leadership is lost.
 */
@Command(name = "elect", description = {"Wait to become leader, run a command while leading, then step down.",
    "The command gets the leadership's fencing token in $SYNOD_FENCING_TOKEN and is stopped if leadership is lost.",
    "Example: synod elect /election/cron host-a -- ./run-cron.sh"})
final class ElectCommand extends NodeCommand {
  private static final Duration WAIT_STEP = Duration.ofSeconds(1);

  @Parameters(index = "0", paramLabel = "PATH", description = "The election (e.g. /election/cron).")
  String path;

  @Parameters(index = "1", paramLabel = "ID", description = "This participant's id (shown as the leader).")
  String id;

  @Parameters(index = "2..*", arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments.")
  List<String> command;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Give up (exit 9) if not leader within this long (default: wait).")
  Duration timeout;

  @Override
  public Integer call() throws InterruptedException {
    checkPath(path);
    Printer p = printer();
    AtomicReference<GuardedCommand> running = new AtomicReference<>();
    try (LeaderLatch latch = new LeaderLatch(client(), path, id)) {
      latch.addListener(new LeaderLatchListener() {
        @Override
        public void isLeader(long fencingToken) {}

        @Override
        public void notLeader() {
          GuardedCommand r = running.get();
          if (r != null) {
            r.lost();
          }
        }
      });
      latch.start();
      awaitLeadership(latch, p);
      GuardedCommand run = new GuardedCommand(ctx(), command);
      running.set(run);
      long token = latch.fencingToken();
      if (!latch.hasLeadership()) {
        run.lost(); // lost between await and now: run nothing
        throw new CliException(ExitCodes.LOST, "leadership of " + path + " lost before the command started");
      }
      if (p.json()) {
        JsonObject o = new JsonObject();
        o.addProperty("path", path);
        o.addProperty("leader", id);
        o.addProperty("fencing_token", token);
        p.json(o);
      } else {
        p.note("synod: leader of " + path + " as " + id + " (fencing token " + token + ")");
      }
      return run.run(token, "leadership of " + path);
    }
  }

  private void awaitLeadership(LeaderLatch latch, Printer p) throws InterruptedException {
    long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    boolean told = false;
    while (!latch.hasLeadership()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new CliException(ExitCodes.NOT_ACQUIRED, "not leader of " + path + " within " + timeout.toMillis() + " ms");
      }
      latch.await(Duration.ofNanos(Math.min(left, WAIT_STEP.toNanos())));
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      if (!told && !latch.hasLeadership() && !p.json()) {
        Optional<String> leader = latch.currentLeader();
        p.note("synod: waiting to lead " + path + leader.map(l -> " (leader now: " + l + ")").orElse(""));
        told = true;
      }
    }
  }
}
