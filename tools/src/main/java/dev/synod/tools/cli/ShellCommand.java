package dev.synod.tools.cli;

import dev.synod.client.SynodClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.terminal.impl.DumbTerminal;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code shell}: reads commands line by line (JLine: editing, history in ~/.synod_history, Tab
 * completion of commands and paths) and runs each with the same session, so ephemeral nodes and
 * locks created in it live until the shell exits. Ctrl-C stops the running command (a watch, a
 * lock wait); Ctrl-D or {@code exit} leaves.
 */
@Command(name = "shell", description = "Open the interactive shell (also what synod does without a command).")
final class ShellCommand extends NodeCommand {
  private static final long COMPLETION_TIMEOUT_MS = 1000;

  @Override
  public Integer call() throws IOException {
    return run(root);
  }

  int run(SynodCli top) throws IOException {
    CliContext ctx = top.context();
    if (ctx.interactive()) {
      throw CliException.usage("already in the shell");
    }
    ctx.interactive(true);
    ctx.shellJson(top.json);
    SynodClient client = top.client(); // connect now: a wrong --servers shows at once, not at the first command
    List<String> commands = new ArrayList<>(SynodCli.commandLine(ctx).getSubcommands().keySet());
    commands.addAll(List.of("exit", "quit"));
    commands.remove("shell");
    ShellCompleter completer = new ShellCompleter(commands, path -> {
      try {
        return client.getChildrenAsync(path, null).get(COMPLETION_TIMEOUT_MS, TimeUnit.MILLISECONDS).children();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try (Terminal terminal = terminal(ctx)) {
      LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("synod").completer(completer)
          .variable(LineReader.HISTORY_FILE, ctx.historyFile())
          // Lines that carry credentials never reach the history file (JLine patterns, ':' between).
          .variable(LineReader.HISTORY_IGNORE, "addauth*:*--auth*")
          .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true) // "!" is ordinary text in values
          .build();
      if (!top.json) {
        terminal.writer().println("Connected to " + address(client) + ", session 0x" + Long.toHexString(client.sessionId())
            + ". Type 'help' for commands, Tab to complete, Ctrl-D to exit.");
        terminal.writer().flush();
      }
      loop(ctx, terminal, reader, client);
      reader.getHistory().save();
    }
    return ExitCodes.OK;
  }

  private static void loop(CliContext ctx, Terminal terminal, LineReader reader, SynodClient client) {
    while (true) {
      String line;
      try {
        line = reader.readLine("synod " + address(client) + "> ");
      } catch (UserInterruptException e) {
        continue; // Ctrl-C at the prompt: drop the line
      } catch (EndOfFileException e) {
        return;
      }
      List<String> words = new ArrayList<>(reader.getParsedLine().words());
      words.removeIf(String::isEmpty);
      if (line.isBlank() || words.isEmpty()) {
        continue;
      }
      if (words.get(0).equals("exit") || words.get(0).equals("quit")) {
        return;
      }
      if (words.get(0).equals("shell")) {
        ctx.err.println("synod: already in the shell");
        continue;
      }
      Thread worker = Thread.currentThread();
      Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> worker.interrupt());
      try {
        SynodCli.commandLine(ctx).execute(words.toArray(String[]::new));
      } finally {
        terminal.handle(Terminal.Signal.INT, previous);
        Thread.interrupted(); // a Ctrl-C that came after the command ended must not hit the next one
      }
    }
  }

  private static Terminal terminal(CliContext ctx) throws IOException {
    if (ctx.usesSystemStreams()) {
      return TerminalBuilder.builder().name("synod").system(true).build();
    }
    // Streams of a test (or an embedding program): a dumb terminal over them.
    return new DumbTerminal("synod", Terminal.TYPE_DUMB, ctx.in, ctx.rawOut, StandardCharsets.UTF_8);
  }

  private static String address(SynodClient c) {
    InetSocketAddress a = c.currentServer();
    return a == null ? "(disconnected)" : a.getHostString() + ":" + a.getPort();
  }
}
