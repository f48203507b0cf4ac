package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.client.ChildrenPage;
import dev.synod.client.SynodClient;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ls [PATH]}: the children of a node, one name per line; {@code -R} every node below it
 * (full paths, depth first, as zkCli's {@code ls -R}); {@code -s} the node's stat too;
 * {@code -w} leaves a one-shot child watch ({@link OneShotWatch}).
 */
@Command(name = "ls", description = "List the children of a node (names, sorted).")
final class LsCommand extends NodeCommand {
  @Parameters(index = "0", defaultValue = "/", paramLabel = "PATH", description = "The node's absolute path (default: /).")
  String path;

  @Option(names = {"-R", "--recursive"}, description = "Every node below PATH, as full paths, depth first.")
  boolean recursive;

  @Option(names = "--stat", description = "Also print the node's stat.")
  boolean stat;

  @Option(names = {"-w", "--watch"}, description = {"Leave a one-shot watch on the children: the shell prints",
      "the event when it fires; a command waits for it."})
  boolean watch;

  @Option(names = {"-L", "--linearizable"}, description = {"Read linearizably: reflect every write acknowledged",
      "anywhere before this read (a round trip to the leader first)."})
  boolean linearizable;

  @Override
  public Integer call() {
    checkPath(path);
    if (recursive && watch) {
      throw CliException.usage("-R and -w do not go together (watch one node's children)");
    }
    SynodClient c = reader(linearizable);
    Printer p = printer();
    OneShotWatch oneShot = watch ? new OneShotWatch(ctx(), p) : null;
    ChildrenPage page = c.getChildrenAsync(path, oneShot == null ? null : oneShot.watcher()).join();
    List<String> listed = recursive ? below(c, path, page.children()) : page.children();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      JsonArray a = new JsonArray();
      listed.forEach(a::add);
      o.add(recursive ? "descendants" : "children", a);
      if (stat) {
        o.add("stat", Render.stat(page.stat()));
      }
      p.json(o);
    } else {
      listed.forEach(p::line);
      if (stat) {
        Render.statLines(page.stat()).forEach(p::line);
      }
    }
    if (oneShot != null) {
      oneShot.awaitIfNotInteractive(c);
    }
    return ExitCodes.OK;
  }

  /** Every node below {@code root} (whose children are {@code first}), as full paths, depth first. */
  private static List<String> below(SynodClient c, String root, List<String> first) {
    List<String> out = new java.util.ArrayList<>();
    Deque<String> todo = new ArrayDeque<>();
    for (int i = first.size() - 1; i >= 0; i--) {
      todo.push(join(root, first.get(i)));
    }
    while (!todo.isEmpty()) {
      String node = todo.pop();
      out.add(node);
      List<String> children;
      try {
        children = c.getChildren(node);
      } catch (dev.synod.client.NoNodeException gone) {
        continue; // deleted while we walked
      }
      for (int i = children.size() - 1; i >= 0; i--) {
        todo.push(join(node, children.get(i)));
      }
    }
    return out;
  }

  private static String join(String parent, String child) {
    return parent.equals("/") ? "/" + child : parent + "/" + child;
  }
}
