package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.NoNodeException;
import dev.synod.client.SynodClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code delete-recursive PATH}: deletes a node and everything below it, children first. Not
 * atomic: nodes created below it meanwhile make the final delete fail with "node has children".
 * With {@code --prefix}, PATH is a prefix (etcdctl's {@code del --prefix}): every node whose path
 * starts with it goes, with its subtree, after a confirmation (a prompt on a terminal, else
 * {@code --yes}).
 */
@Command(name = "delete-recursive", aliases = {"deleteall", "rmr"},
    description = {"Delete a node and everything below it (children first; not atomic).",
        "With --prefix, every node whose path starts with PATH (asks first)."})
final class DeleteRecursiveCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path (with --prefix: a path prefix).")
  String path;

  @picocli.CommandLine.Option(names = "--prefix", description = {"PATH is a prefix: delete every node whose path",
      "starts with it (/app/job- takes /app/job-1 and /app/job-2), with their subtrees."})
  boolean prefix;

  @picocli.CommandLine.Option(names = {"-y", "--yes"}, description = "Do not ask before a --prefix delete.")
  boolean yes;

  @Override
  public Integer call() {
    checkPath(path);
    if (prefix) {
      return deletePrefix();
    }
    if (path.equals("/")) {
      throw CliException.usage("refusing to delete / (delete its children one by one)");
    }
    SynodClient c = client();
    if (c.exists(path) == null) {
      throw new CliException(ExitCodes.NO_NODE, "no such node: " + path);
    }
    long deleted = deleteTree(c, path);
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("deleted", path);
      o.addProperty("count", deleted);
      p.json(o);
    }
    return ExitCodes.OK;
  }

  private Integer deletePrefix() {
    SynodClient c = client();
    int slash = path.lastIndexOf('/');
    String parent = slash == 0 ? "/" : path.substring(0, slash);
    String namePrefix = path.substring(slash + 1);
    java.util.List<String> roots = new java.util.ArrayList<>();
    try {
      for (String child : c.getChildren(parent)) {
        if (child.startsWith(namePrefix)) {
          roots.add(Render.child(parent, child));
        }
      }
    } catch (NoNodeException e) {
      throw new CliException(ExitCodes.NO_NODE, "no such node: " + parent);
    }
    long count = 0;
    for (String r : roots) {
      count += countTree(c, r);
    }
    Printer p = printer();
    if (roots.isEmpty()) {
      p.note("synod: no node starts with " + path);
    } else if (!yes && !confirmed(roots, count)) {
      throw CliException.usage(count + " nodes start with " + path + " (" + roots.size()
          + " subtrees: " + String.join(", ", roots.subList(0, Math.min(5, roots.size())))
          + (roots.size() > 5 ? ", ..." : "") + "); nothing deleted: add --yes to delete them");
    }
    long deleted = 0;
    for (String r : roots) {
      deleted += deleteTree(c, r);
    }
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("prefix", path);
      o.addProperty("count", deleted);
      p.json(o);
    }
    return ExitCodes.OK;
  }

  /** Asks on the terminal (only a command of its own, on a console); false when no one can answer. */
  private boolean confirmed(java.util.List<String> roots, long count) {
    java.io.Console console = System.console();
    if (console == null || ctx().interactive() || !ctx().usesSystemStreams()) {
      return false;
    }
    String answer = console.readLine("delete %d nodes under %d subtrees starting with %s? [y/N] ",
        count, roots.size(), path);
    return answer != null && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"));
  }

  private static long countTree(SynodClient c, String path) {
    try {
      long n = 1;
      for (String child : c.getChildren(path)) {
        n += countTree(c, Render.child(path, child));
      }
      return n;
    } catch (NoNodeException e) {
      return 0;
    }
  }

  /** Deletes {@code path} and its subtree; nodes already gone (deleted by someone else) are skipped. */
  private static long deleteTree(SynodClient c, String path) {
    long n = 0;
    try {
      for (String child : c.getChildren(path)) {
        n += deleteTree(c, Render.child(path, child));
      }
      c.delete(path, -1);
      return n + 1;
    } catch (NoNodeException e) {
      return n;
    }
  }
}
