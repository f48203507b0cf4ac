package dev.synod.tools.cli;

import dev.synod.client.SynodClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.ParentCommand;

/** Base of the commands: access to the connection, the printer and the streams of this run. */
abstract class NodeCommand implements Callable<Integer> {
  @ParentCommand
  SynodCli root;

  SynodClient client() {
    return root.client();
  }

  /** The client for reads: its linearizable view when the command was asked for one. */
  SynodClient reader(boolean linearizable) {
    return linearizable ? client().linearizable() : client();
  }

  Printer printer() {
    return root.printer();
  }

  CliContext ctx() {
    return root.context();
  }

  /** Paths are absolute; the server checks the rest (empty segments, "." and ".."). */
  static String checkPath(String path) {
    if (path == null || !path.startsWith("/")) {
      throw CliException.usage("paths are absolute (start with /): '" + path + "'");
    }
    return path;
  }
}
