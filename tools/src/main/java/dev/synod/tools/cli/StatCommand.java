package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stat PATH}: a node's metadata (zxids, times, versions, kind, ...). */
@Command(name = "stat", description = "Print the stat of a node (exit code 3 if it does not exist).")
final class StatCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Option(names = {"-w", "--watch"}, description = {"Leave a one-shot exists watch (fires on create, change or",
      "delete): the shell prints the event when it fires; a command waits for it."})
  boolean watch;

  @Option(names = {"-L", "--linearizable"}, description = {"Read linearizably: reflect every write acknowledged",
      "anywhere before this read (a round trip to the leader first)."})
  boolean linearizable;

  @Override
  public Integer call() {
    checkPath(path);
    OneShotWatch oneShot = watch ? new OneShotWatch(ctx(), printer()) : null;
    Stat s = reader(linearizable).exists(path, oneShot == null ? null : oneShot.watcher());
    if (s == null) {
      if (oneShot != null) { // an exists watch on a missing node waits for its creation
        printer().note("synod: no such node: " + path);
        oneShot.awaitIfNotInteractive(client());
      }
      throw new CliException(ExitCodes.NO_NODE, "no such node: " + path);
    }
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.add("stat", Render.stat(s));
      p.json(o);
    } else {
      Render.statLines(s).forEach(p::line);
    }
    if (oneShot != null) {
      oneShot.awaitIfNotInteractive(client());
    }
    return ExitCodes.OK;
  }
}
