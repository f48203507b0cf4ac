package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code stat PATH}: a node's metadata (zxids, times, versions, kind, ...). */
@Command(name = "stat", description = "Print the stat of a node (exit code 3 if it does not exist).")
final class StatCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH")
  String path;

  @Override
  public Integer call() {
    Stat s = client().exists(checkPath(path));
    if (s == null) {
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
    return ExitCodes.OK;
  }
}
