package dev.synod.tools.cli;

import dev.synod.api.v1.Acl;
import dev.synod.server.auth.Acls;
import java.util.ArrayList;
import java.util.List;

/** ACL entries as the CLI takes and prints them: SCHEME:ID:PERMS, perms as zkCli's letters. */
final class AclArgs {
  private AclArgs() {}

  static List<Acl> parse(List<String> entries) {
    List<Acl> acl = new ArrayList<>();
    for (String e : entries) {
      try {
        acl.add(Acls.parse(e));
      } catch (IllegalArgumentException bad) {
        throw CliException.usage(bad.getMessage());
      }
    }
    return acl;
  }

  static String format(Acl entry) {
    return Acls.format(entry);
  }
}
