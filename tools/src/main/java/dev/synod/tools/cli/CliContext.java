package dev.synod.tools.cli;

import dev.synod.client.ConnectionState;
import dev.synod.client.SynodClient;
import dev.synod.client.TlsCredentials;
import io.grpc.ChannelCredentials;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the commands of one {@code synod} run share: the streams and the connection. The
 * connection is opened on first use, so {@code synod --help} or a usage error never connects, and
 * the shell keeps one session (and its ephemeral nodes) across the commands typed in it.
 */
final class CliContext implements AutoCloseable {
  /** How to connect; fixed by the first command that connects. */
  record Settings(String servers, Duration sessionTimeout, Duration connectTimeout, Tls tls, String auth) {
    Settings(String servers, Duration sessionTimeout, Duration connectTimeout) {
      this(servers, sessionTimeout, connectTimeout, new Tls(null, null, null), "");
    }

    /** Never prints the credential. */
    @Override
    public String toString() {
      return "Settings[servers=" + servers + ", auth=" + (auth == null || auth.isEmpty() ? "none" : "(set)") + "]";
    }
  }

  /** --tls-ca, --tls-cert, --tls-key (null when not given): TLS when {@code ca} is set. */
  record Tls(Path ca, Path cert, Path key) {
    /** Puts the TLS files on the builder, refusing (usage error) what cannot work. */
    SynodClient.Builder applyTo(SynodClient.Builder b) {
      check();
      if (ca != null) {
        b.tlsCaBundle(ca);
      }
      if (cert != null) {
        b.tlsClientCertificate(cert, key);
      }
      return b;
    }

    /** Credentials for a channel of the CLI's own (plaintext without --tls-ca). */
    ChannelCredentials credentials() {
      check();
      try {
        return TlsCredentials.of(ca, cert, key);
      } catch (IllegalArgumentException e) {
        throw CliException.usage(e.getMessage());
      }
    }

    private void check() {
      if ((cert == null) != (key == null)) {
        throw CliException.usage("--tls-cert and --tls-key go together");
      }
      if (cert != null && ca == null) {
        throw CliException.usage("--tls-cert needs --tls-ca (the CAs that issued the servers' certificates)");
      }
      for (Path p : new Path[] {ca, cert, key}) {
        if (p != null && !Files.isReadable(p)) {
          throw CliException.usage("cannot read " + p);
        }
      }
    }
  }

  final InputStream in;
  final OutputStream rawOut;
  final PrintWriter out;
  final PrintWriter err;
  private Settings settings;
  private boolean shellJson;
  private boolean interactive;
  private SynodClient client;
  private Path historyFile = Path.of(System.getProperty("user.home"), ".synod_history");

  CliContext(InputStream in, OutputStream out, OutputStream err) {
    this.in = in;
    this.rawOut = out;
    this.out = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    this.err = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
  }

  /** Fixes the connection settings unless an earlier command (the shell's) already did. */
  void settingsIfUnset(Settings s) {
    if (settings == null) {
      settings = s;
    }
  }

  Settings settings() {
    return settings;
  }

  /** True when this run owns the process's own stdin/stdout (a terminal), not streams given to it. */
  boolean usesSystemStreams() {
    return in == System.in && rawOut == System.out;
  }

  /** Where the shell keeps its history (default ~/.synod_history). */
  Path historyFile() {
    return historyFile;
  }

  void historyFile(Path file) {
    historyFile = file;
  }

  /** Marks this run as the interactive shell (one session for every command typed). */
  void interactive(boolean on) {
    interactive = on;
  }

  boolean interactive() {
    return interactive;
  }

  /** Inside a shell started with --json every command prints JSON. */
  void shellJson(boolean on) {
    shellJson = on;
  }

  boolean shellJson() {
    return shellJson;
  }

  /** The connected client, connecting on first use. */
  synchronized SynodClient client() {
    if (client != null) {
      return client;
    }
    if (settings == null) {
      throw new IllegalStateException("no connection settings");
    }
    // Wait for the CONNECTED event itself, not only the state: listeners hear of state changes
    // asynchronously, and a recipe (LeaderLatch, Mutex) that subscribes right after
    // blockUntilConnected could otherwise still receive this first CONNECTED, take it for a new
    // session and rejoin, dropping the leadership it just gained.
    CountDownLatch opened = new CountDownLatch(1);
    SynodClient.Builder builder;
    try {
      builder = SynodClient.builder().connectString(settings.servers());
    } catch (IllegalArgumentException e) {
      throw CliException.usage("bad --servers '" + settings.servers() + "': " + e.getMessage());
    }
    SynodClient c;
    try {
      builder = settings.tls().applyTo(builder).sessionTimeout(settings.sessionTimeout())
          .connectionStateListener((cl, state) -> {
            if (state == ConnectionState.CONNECTED) {
              opened.countDown();
            }
          });
    } catch (IllegalArgumentException e) {
      throw CliException.usage(e.getMessage()); // a TLS file that does not parse (the SDK names it)
    }
    String auth = settings.auth() == null ? "" : settings.auth();
    if (!auth.isEmpty()) {
      int colon = auth.indexOf(':');
      if (colon <= 0) {
        throw CliException.usage("--auth is SCHEME:AUTH, e.g. digest:USER:PASSWORD");
      }
      builder.credential(auth.substring(0, colon),
          auth.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
    }
    try {
      c = builder.build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(e.getMessage()); // a TLS file that does not parse (the SDK names it)
    }
    c.start();
    boolean connected;
    try {
      long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
      do {
        connected = opened.await(Math.min(50, settings.connectTimeout().toMillis()), TimeUnit.MILLISECONDS);
      } while (!connected && !c.authFailed() && System.nanoTime() < deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      c.close();
      throw new CliException(ExitCodes.INTERRUPTED, "interrupted while connecting");
    }
    if (!connected) {
      c.close();
      if (c.authFailed()) {
        // An open refused for its credentials never connects: say so, not "no server".
        throw new CliException(ExitCodes.AUTH_FAILED, "authentication failed: the servers refused"
            + " the credentials of --auth / SYNOD_AUTH");
      }
      throw new CliException(ExitCodes.UNAVAILABLE, "cannot connect to " + settings.servers() + " within "
          + settings.connectTimeout().toMillis() + " ms (is a server running? set --servers or SYNOD_SERVERS"
          + (settings.tls().ca() == null ? "; a TLS server needs --tls-ca" : "; TLS: check --tls-ca and the"
          + " server's certificate names this host, and --tls-cert/--tls-key if it wants a client certificate")
          + ")");
    }
    client = c;
    return c;
  }

  /** Closes the session (its ephemeral nodes and locks go with it). */
  @Override
  public synchronized void close() {
    SynodClient c = client;
    client = null;
    if (c != null) {
      c.close();
    }
    out.flush();
    err.flush();
  }
}
