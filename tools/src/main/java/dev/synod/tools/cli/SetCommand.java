package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code set PATH DATA}: replaces a node's value, optionally only at a given version. */
@Command(name = "set", description = "Set the value of a node.")
final class SetCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Parameters(index = "1", arity = "0..1", paramLabel = "DATA",
      description = "The value: text, @FILE for a file's bytes, - for stdin (default: empty).")
  String data;

  @Option(names = {"-v", "--version"}, paramLabel = "N", defaultValue = "-1",
      description = "Only if the node's version is N (default: any).")
  int version;

  @Option(names = "--stat", description = "Print the node's stat afterwards.")
  boolean stat;

  @Override
  public Integer call() {
    checkPath(path);
    Stat s = client().setData(path, DataSource.read(data, ctx().in), version);
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.add("stat", Render.stat(s));
      p.json(o);
    } else if (stat) {
      Render.statLines(s).forEach(p::line);
    }
    return ExitCodes.OK;
  }
}
