package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.api.v1.Acl;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code getacl PATH}: the node's ACL, one SCHEME:ID:PERMS entry per line. */
@Command(name = "getacl", description = "Print a node's ACL, one SCHEME:ID:PERMS per line (needs READ or ADMIN).")
final class GetAclCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH")
  String path;

  @Override
  public Integer call() {
    checkPath(path);
    List<Acl> acl = client().getAcl(path);
    Printer p = printer();
    if (p.json()) {
      JsonArray entries = new JsonArray();
      for (Acl a : acl) {
        JsonObject o = new JsonObject();
        o.addProperty("scheme", a.getScheme());
        o.addProperty("id", a.getId());
        o.addProperty("perms", AclArgs.format(a).substring(a.getScheme().length() + a.getId().length() + 2));
        entries.add(o);
      }
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.add("acl", entries);
      p.json(o);
    } else {
      for (Acl a : acl) {
        p.line(AclArgs.format(a));
      }
    }
    return ExitCodes.OK;
  }
}
