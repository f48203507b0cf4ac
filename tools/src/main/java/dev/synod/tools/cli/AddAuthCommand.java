package dev.synod.tools.cli;

import dev.synod.api.v1.Identity;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code addauth SCHEME:AUTH}: proves one more identity for this session, as zkCli's addauth (in
 * the shell it lasts for the rest of it). Prints the identities held, never the credential.
 */
@Command(name = "addauth", description = "Prove one more identity for this session, e.g. addauth digest:USER:PASSWORD.")
final class AddAuthCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "SCHEME:AUTH")
  String credential;

  @Override
  public Integer call() {
    int colon = credential.indexOf(':');
    if (colon <= 0) {
      throw CliException.usage("addauth takes SCHEME:AUTH, e.g. digest:USER:PASSWORD");
    }
    List<Identity> ids = client().addAuth(credential.substring(0, colon),
        credential.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
    for (Identity id : ids) {
      if (!id.getScheme().equals("ip")) {
        printer().line(id.getScheme() + ":" + id.getId());
      }
    }
    return ExitCodes.OK;
  }
}
