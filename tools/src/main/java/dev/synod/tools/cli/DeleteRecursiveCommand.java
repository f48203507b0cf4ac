package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.NoNodeException;
import dev.synod.client.SynodClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code delete-recursive PATH}: deletes a node and everything below it, children first. Not
 * atomic: nodes created below it meanwhile make the final delete fail with "node has children".
 */
@Command(name = "delete-recursive", aliases = {"deleteall", "rmr"},
    description = "Delete a node and everything below it (children first; not atomic).")
final class DeleteRecursiveCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Override
  public Integer call() {
    checkPath(path);
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
