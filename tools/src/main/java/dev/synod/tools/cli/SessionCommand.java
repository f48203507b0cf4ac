package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.client.SynodClient;
import java.net.InetSocketAddress;
import picocli.CommandLine.Command;

/** {@code session}: this client's session: id, negotiated timeout, server, last zxid seen. */
@Command(name = "session", description = "Show this client's session (id, timeout, server, last zxid seen).")
final class SessionCommand extends NodeCommand {
  @Override
  public Integer call() {
    SynodClient c = client();
    InetSocketAddress server = c.currentServer();
    String address = server == null ? null : server.getHostString() + ":" + server.getPort();
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("session_id", c.sessionId());
      o.addProperty("timeout_ms", c.sessionTimeout().toMillis());
      o.addProperty("server", address);
      o.addProperty("last_zxid", c.lastZxidSeen());
      o.addProperty("state", String.valueOf(c.state()));
      p.json(o);
    } else {
      p.line(String.format("%-16s0x%x (%d)", "session_id", c.sessionId(), c.sessionId()));
      p.line(String.format("%-16s%d", "timeout_ms", c.sessionTimeout().toMillis()));
      p.line(String.format("%-16s%s", "server", address == null ? "(disconnected)" : address));
      p.line(String.format("%-16s%d", "last_zxid", c.lastZxidSeen()));
      p.line(String.format("%-16s%s", "state", c.state()));
    }
    return ExitCodes.OK;
  }
}
