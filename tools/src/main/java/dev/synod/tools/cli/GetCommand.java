package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.NodeData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code get PATH}: a node's value, as it is (JSON: text or base64, and the stat). */
@Command(name = "get", description = "Print the value of a node.")
final class GetCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Option(names = "--stat", description = "Also print the node's stat after the value.")
  boolean stat;

  @Option(names = {"-w", "--watch"}, description = {"Leave a one-shot watch on the node: the shell prints",
      "the event when it fires; a command waits for it."})
  boolean watch;

  @Option(names = {"-L", "--linearizable"}, description = {"Read linearizably: reflect every write acknowledged",
      "anywhere before this read (a round trip to the leader first)."})
  boolean linearizable;

  @Override
  public Integer call() {
    checkPath(path);
    OneShotWatch oneShot = watch ? new OneShotWatch(ctx(), printer()) : null;
    NodeData d = reader(linearizable).getData(path, oneShot == null ? null : oneShot.watcher());
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      Render.data(o, d.data());
      o.add("stat", Render.stat(d.stat()));
      p.json(o);
    } else {
      p.value(d.data());
      if (stat) {
        Render.statLines(d.stat()).forEach(p::line);
      }
    }
    if (oneShot != null) {
      oneShot.awaitIfNotInteractive(client());
    }
    return ExitCodes.OK;
  }
}
