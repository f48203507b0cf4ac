package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import picocli.CommandLine.Command;

/** {@code sync}: waits until this server has applied every write accepted before it. */
@Command(name = "sync", description = "Wait until the server has applied every earlier write; prints that zxid.")
final class SyncCommand extends NodeCommand {
  @Override
  public Integer call() {
    long zxid = client().sync();
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("zxid", zxid);
      p.json(o);
    } else {
      p.line("synced at zxid " + zxid);
    }
    return ExitCodes.OK;
  }
}
