package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ls [PATH]}: the children of a node, one name per line. */
@Command(name = "ls", description = "List the children of a node (names, sorted).")
final class LsCommand extends NodeCommand {
  @Parameters(index = "0", defaultValue = "/", paramLabel = "PATH", description = "Node (default: /).")
  String path;

  @Override
  public Integer call() {
    List<String> children = client().getChildren(checkPath(path));
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      JsonArray a = new JsonArray();
      children.forEach(a::add);
      o.add("children", a);
      p.json(o);
    } else {
      children.forEach(p::line);
    }
    return ExitCodes.OK;
  }
}
