package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code delete PATH}: deletes a node without children, optionally only at a given version. */
@Command(name = "delete", aliases = "rm", description = "Delete a node (it must have no children).")
final class DeleteCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Option(names = {"-v", "--version"}, paramLabel = "N", defaultValue = "-1",
      description = "Only if the node's version is N (default: any).")
  int version;

  @Override
  public Integer call() {
    client().delete(checkPath(path), version);
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("deleted", path);
      p.json(o);
    }
    return ExitCodes.OK;
  }
}
