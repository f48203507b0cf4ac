package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.api.v1.Stat;
import dev.synod.client.NoNodeException;
import dev.synod.client.SynodClient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code getEphemerals [PATH]}: the ephemeral nodes this session owns at or below PATH (zkCli's
 * getEphemerals), found by walking the subtree: in the shell, what {@code create -e} made there.
 */
@Command(name = "getEphemerals", aliases = "get-ephemerals",
    description = "List the ephemeral nodes this session owns at or below PATH (default /).")
final class GetEphemeralsCommand extends NodeCommand {
  @Parameters(index = "0", defaultValue = "/", paramLabel = "PATH", description = "Where to look (default: /).")
  String path;

  @Override
  public Integer call() {
    SynodClient c = client();
    long session = c.sessionId();
    List<String> owned = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.push(checkPath(path));
    while (!todo.isEmpty()) {
      String node = todo.pop();
      Stat s = c.exists(node);
      if (s == null) {
        continue; // deleted while we walked
      }
      if (s.getEphemeralOwner() == session) {
        owned.add(node);
      }
      if (s.getNumChildren() == 0) {
        continue;
      }
      List<String> children;
      try {
        children = c.getChildren(node);
      } catch (NoNodeException gone) {
        continue;
      }
      for (int i = children.size() - 1; i >= 0; i--) {
        todo.push(node.equals("/") ? "/" + children.get(i) : node + "/" + children.get(i));
      }
    }
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.addProperty("session_id", Long.toUnsignedString(session));
      JsonArray a = new JsonArray();
      owned.forEach(a::add);
      o.add("ephemerals", a);
      p.json(o);
    } else {
      owned.forEach(p::line);
    }
    return ExitCodes.OK;
  }
}
