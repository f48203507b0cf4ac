package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.client.NoNodeException;
import dev.synod.client.SynodClient;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tree [PATH]}: the subtree below a node, drawn with indentation. */
@Command(name = "tree", description = "Show the subtree of a node.")
final class TreeCommand extends NodeCommand {
  @Parameters(index = "0", defaultValue = "/", paramLabel = "PATH", description = "Node (default: /).")
  String path;

  @Option(names = {"-d", "--depth"}, paramLabel = "N", description = "Show at most N levels below PATH.")
  int depth = Integer.MAX_VALUE;

  @Override
  public Integer call() {
    SynodClient c = client();
    checkPath(path);
    List<String> top = c.getChildren(path); // a missing root is an error; missing descendants are skipped
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.add("children", jsonChildren(c, path, top, 1));
      p.json(o);
    } else {
      p.line(path);
      drawChildren(c, p, path, top, "", 1);
    }
    return ExitCodes.OK;
  }

  private JsonArray jsonChildren(SynodClient c, String parent, List<String> names, int level) {
    JsonArray a = new JsonArray();
    if (level > depth) {
      return a;
    }
    for (String name : names) {
      String child = Render.child(parent, name);
      List<String> below = childrenOrNull(c, child);
      if (below == null) {
        continue;
      }
      JsonObject o = new JsonObject();
      o.addProperty("path", child);
      o.add("children", jsonChildren(c, child, below, level + 1));
      a.add(o);
    }
    return a;
  }

  private void drawChildren(SynodClient c, Printer p, String parent, List<String> names, String indent, int level) {
    if (level > depth) {
      return;
    }
    for (int i = 0; i < names.size(); i++) {
      boolean last = i == names.size() - 1;
      String child = Render.child(parent, names.get(i));
      List<String> below = childrenOrNull(c, child);
      if (below == null) {
        continue;
      }
      p.line(indent + (last ? "└── " : "├── ") + names.get(i));
      drawChildren(c, p, child, below, indent + (last ? "    " : "│   "), level + 1);
    }
  }

  /** Children, or null if the node was deleted while the tree was being read. */
  private static List<String> childrenOrNull(SynodClient c, String path) {
    try {
      return c.getChildren(path);
    } catch (NoNodeException e) {
      return null;
    }
  }
}
