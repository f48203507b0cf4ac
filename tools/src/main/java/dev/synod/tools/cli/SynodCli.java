package dev.synod.tools.cli;

import dev.synod.client.SynodClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code synod}: the command-line client. With a command it runs that command and exits; with
 * none (or {@code shell}) it opens the interactive shell. Global options may come before or after
 * the command. Exit codes are in {@link ExitCodes}.
 */
@Command(name = "synod", mixinStandardHelpOptions = true, versionProvider = SynodCli.Version.class,
    description = "Command-line client of Synod, the coordination service.",
    footer = {"", "Without a command, opens the interactive shell.", "",
        "Exit codes:",
        "  0 ok, 1 error, 2 bad arguments, 3 no node, 4 node exists, 5 bad version,",
        "  6 not empty, 7 no server reachable, 8 session expired,",
        "  9 lock/leadership not acquired in time, 10 lock/leadership lost,",
        "  11 not authorized (NO_AUTH), 12 authentication failed, 13 quota exceeded, 130 interrupted;",
        "  lock and elect otherwise exit with their command's code."},
    subcommands = {
        LsCommand.class, TreeCommand.class, GetCommand.class, SetCommand.class, CreateCommand.class,
        DeleteCommand.class, DeleteRecursiveCommand.class, StatCommand.class, WatchCommand.class,
        MultiCommand.class, SyncCommand.class, LockCommand.class, ElectCommand.class, StatusCommand.class,
        SessionCommand.class, GetAclCommand.class, SetAclCommand.class, AddAuthCommand.class,
        QuotaCommand.class, RemoveWatchesCommand.class, GetEphemeralsCommand.class, BackupCommand.class,
        MembersCommand.class, LeaderCommand.class,
        ShellCommand.class, CommandLine.HelpCommand.class})
public final class SynodCli implements Callable<Integer> {
  static final String DEFAULT_SERVERS = "127.0.0.1:7070";

  @Option(names = {"-s", "--servers"}, scope = ScopeType.INHERIT, paramLabel = "HOST:PORT[,...]",
      defaultValue = "${env:SYNOD_SERVERS:-" + DEFAULT_SERVERS + "}",
      description = "Servers to connect to (default: $SYNOD_SERVERS, else " + DEFAULT_SERVERS + ").")
  String servers;

  @Option(names = "--session-timeout", scope = ScopeType.INHERIT, defaultValue = "10s",
      converter = DurationConverter.class, paramLabel = "DURATION",
      description = "Session timeout to ask for (default: ${DEFAULT-VALUE}).")
  Duration sessionTimeout;

  @Option(names = "--connect-timeout", scope = ScopeType.INHERIT, defaultValue = "5s",
      converter = DurationConverter.class, paramLabel = "DURATION",
      description = "How long to try to open a session before giving up (default: ${DEFAULT-VALUE}).")
  Duration connectTimeout;

  @Option(names = "--tls-ca", scope = ScopeType.INHERIT, paramLabel = "FILE",
      defaultValue = "${env:SYNOD_TLS_CA}",
      description = "Connect over TLS, trusting the CAs in this PEM bundle (default: $SYNOD_TLS_CA).")
  Path tlsCa;

  @Option(names = "--tls-cert", scope = ScopeType.INHERIT, paramLabel = "FILE",
      defaultValue = "${env:SYNOD_TLS_CERT}",
      description = "Client certificate (PEM) for servers that require one; needs --tls-ca and --tls-key"
          + " (default: $SYNOD_TLS_CERT).")
  Path tlsCert;

  @Option(names = "--tls-key", scope = ScopeType.INHERIT, paramLabel = "FILE",
      defaultValue = "${env:SYNOD_TLS_KEY}",
      description = "The client certificate's private key (PEM, PKCS#8) (default: $SYNOD_TLS_KEY).")
  Path tlsKey;

  @Option(names = "--auth", scope = ScopeType.INHERIT, paramLabel = "SCHEME:AUTH",
      defaultValue = "${env:SYNOD_AUTH:-}", showDefaultValue = CommandLine.Help.Visibility.NEVER,
      description = "Credentials to prove, e.g. digest:USER:PASSWORD (default: $SYNOD_AUTH)."
          + " Prefer SYNOD_AUTH: a flag shows in the process list.")
  String auth;

  @Option(names = "--json", scope = ScopeType.INHERIT,
      description = "Print results as JSON (one document per line).")
  boolean json;

  private final CliContext ctx;

  SynodCli(CliContext ctx) {
    this.ctx = ctx;
  }

  /** No command: the interactive shell. */
  @Override
  public Integer call() throws Exception {
    return new ShellCommand().run(this);
  }

  CliContext context() {
    return ctx;
  }

  SynodClient client() {
    ctx.settingsIfUnset(new CliContext.Settings(servers, sessionTimeout, connectTimeout,
        new CliContext.Tls(tlsCa, tlsCert, tlsKey), auth));
    return ctx.client();
  }

  Printer printer() {
    return new Printer(ctx, json || ctx.shellJson());
  }

  /** A command line wired to {@code ctx}: its streams, error reporting and exit codes. */
  static CommandLine commandLine(CliContext ctx) {
    CommandLine cl = new CommandLine(new SynodCli(ctx));
    cl.setExpandAtFiles(false); // "@FILE" is a node value read from a file, not picocli's argument file
    cl.setOverwrittenOptionsAllowed(true); // the last -s / --session-timeout given wins
    cl.setOut(ctx.out);
    cl.setErr(ctx.err);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      Failures.Report r = Failures.describe(ex);
      cmd.getErr().println("synod: " + r.message());
      cmd.getErr().flush();
      return r.exitCode();
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine cmd = ex.getCommandLine();
      cmd.getErr().println("synod: " + ex.getMessage());
      if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, cmd.getErr())) {
        cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
      }
      cmd.getErr().flush();
      return ExitCodes.USAGE;
    });
    return cl;
  }

  /** Runs one command line against {@code ctx} and returns its exit code (the context stays open). */
  static int run(CliContext ctx, String... args) {
    return commandLine(ctx).execute(args);
  }

  /** Runs {@code args} with the given streams and closes the session afterwards. */
  static int run(InputStream in, OutputStream out, OutputStream err, String... args) {
    try (CliContext ctx = new CliContext(in, out, err)) {
      return run(ctx, args);
    }
  }

  /** Runs {@code synod} with the process's streams and exits with the command's exit code. */
  public static void main(String[] args) {
    // gRPC and the SDK log reconnect attempts at INFO/WARNING; the CLI reports failures itself.
    Logger.getLogger("").setLevel(Level.SEVERE);
    for (var h : Logger.getLogger("").getHandlers()) {
      h.setLevel(Level.SEVERE);
    }
    CliContext ctx = new CliContext(System.in, System.out, System.err);
    // Ctrl-C: close the session so its ephemeral nodes and locks go at once, not after the timeout.
    Thread hook = new Thread(ctx::close, "synod-cli-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = run(ctx, args);
    ctx.close();
    System.exit(code);
  }

  /** The version printed by {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SynodCli.class.getPackage().getImplementationVersion();
      return new String[] {"synod " + (v == null ? "(development build)" : v)};
    }
  }
}
