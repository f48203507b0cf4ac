package dev.synod.tools.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code setacl PATH ACL...}: replaces the node's ACL (needs ADMIN). */
@Command(name = "setacl", description = "Replace a node's ACL (needs ADMIN): setacl PATH world:anyone:r digest:USER:HASH:cdrwa ...")
final class SetAclCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH")
  String path;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "SCHEME:ID:PERMS")
  List<String> acl;

  @Option(names = {"-v", "--version"}, paramLabel = "N", defaultValue = "-1",
      description = "Only if the ACL version (aversion) is N.")
  int aversion;

  @Override
  public Integer call() {
    checkPath(path);
    client().setAcl(path, AclArgs.parse(acl), aversion);
    return ExitCodes.OK;
  }
}
