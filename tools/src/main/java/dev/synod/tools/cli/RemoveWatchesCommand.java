package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.WatchKind;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code removewatches PATH}: removes this session's watches on a node (zkCli's removewatches):
 * every kind, or the one a flag names. Useful in the shell, where {@code get -w} and the like
 * leave watches on the shell's session.
 */
@Command(name = "removewatches", description = "Remove this session's watches on a node (every kind, or one).")
final class RemoveWatchesCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @ArgGroup(exclusive = true)
  Kind kind = new Kind();

  static final class Kind {
    @Option(names = {"-d", "--data"}, description = "Only the data watches (get -w).")
    boolean data;

    @Option(names = {"-e", "--exists"}, description = "Only the exists watches (stat -w).")
    boolean exists;

    @Option(names = {"-c", "--children"}, description = "Only the child watches (ls -w).")
    boolean children;

    @Option(names = {"-p", "--persistent"}, description = "Only the persistent watch on the node itself.")
    boolean persistent;

    @Option(names = {"-r", "--recursive"}, description = "Only the persistent recursive watch.")
    boolean recursive;

    WatchKind toWatchKind() {
      return data ? WatchKind.WATCH_DATA : exists ? WatchKind.WATCH_EXISTS : children ? WatchKind.WATCH_CHILDREN
          : persistent ? WatchKind.WATCH_PERSISTENT : recursive ? WatchKind.WATCH_PERSISTENT_RECURSIVE
          : WatchKind.WATCH_KIND_UNSPECIFIED;
    }
  }

  @Override
  public Integer call() {
    WatchKind k = kind.toWatchKind();
    boolean removed = client().removeWatches(checkPath(path), k);
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.addProperty("removed", removed);
      p.json(o);
    } else if (!removed) {
      p.note("synod: this session had no " + (k == WatchKind.WATCH_KIND_UNSPECIFIED ? "" : k.name() + " ")
          + "watch on " + path);
    }
    return ExitCodes.OK;
  }
}
