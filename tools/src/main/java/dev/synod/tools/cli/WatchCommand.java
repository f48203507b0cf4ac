package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.EventType;
import dev.synod.client.ConnectionState;
import dev.synod.client.SynodClient;
import dev.synod.client.WatchHandle;
import dev.synod.client.WatchedEvent;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code watch PATH}: a persistent watch; prints each event as it arrives until Ctrl-C (or
 * {@code --count} events). Events missed during a reconnect are replayed by the SDK, so the stream
 * has no gaps; a RESYNC_NEEDED event says the server could not replay that far back.
 */
@Command(name = "watch", description = "Print the changes of a node (or subtree) as they happen, until Ctrl-C.")
final class WatchCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Option(names = {"-r", "--recursive"}, description = "Also every node below PATH.")
  boolean recursive;

  @Option(names = {"-n", "--count"}, paramLabel = "N", description = "Stop after N events.")
  long count = Long.MAX_VALUE;

  @Option(names = "--data", description = "Include each node's new value.")
  boolean data;

  @Override
  public Integer call() throws InterruptedException {
    checkPath(path);
    if (count <= 0) {
      throw CliException.usage("--count must be positive");
    }
    SynodClient c = client();
    Printer p = printer();
    BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
    WatchHandle handle = c.addWatch(path, recursive, data, events::add);
    try {
      p.note("synod: watching " + path + (recursive ? " and below" : "") + " (Ctrl-C to stop)"); // stderr, also with --json
      long printed = 0;
      while (printed < count) {
        WatchedEvent e = events.poll(200, TimeUnit.MILLISECONDS);
        if (e == null) {
          ConnectionState s = c.state();
          if (s == ConnectionState.EXPIRED) {
            throw new CliException(ExitCodes.SESSION_EXPIRED, "session expired; the watch ended");
          }
          if (s == ConnectionState.CLOSED) {
            throw new CliException(ExitCodes.UNAVAILABLE, "the connection was closed; the watch ended");
          }
          continue;
        }
        print(p, e);
        printed++;
      }
    } finally {
      handle.close();
    }
    return ExitCodes.OK;
  }

  private void print(Printer p, WatchedEvent e) {
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("zxid", e.zxid());
      o.addProperty("type", e.type().name());
      o.addProperty("path", e.path());
      if (e.data() != null) {
        Render.data(o, e.data());
      }
      if (e.stat() != null && e.type() != EventType.RESYNC_NEEDED) {
        o.add("stat", Render.stat(e.stat()));
      }
      p.json(o);
      return;
    }
    StringBuilder line = new StringBuilder().append(e.zxid()).append(' ').append(e.type().name()).append(' ')
        .append(e.path());
    if (e.data() != null) {
      String text = Render.utf8(e.data());
      line.append(' ').append(text != null ? text : "base64:" + java.util.Base64.getEncoder().encodeToString(e.data()));
    }
    p.line(line.toString());
  }
}
