package dev.synod.tools.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.SynodNode;
import dev.synod.server.auth.DigestAuth;
import dev.synod.server.grpc.AuthInterceptor;
import dev.synod.server.tls.TlsNodes;
import dev.synod.tools.polyglot.GrpcurlEmulator;
import dev.synod.tools.polyglot.Repository;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Security section, run as written: its openssl commands make the certificates (in
 * a temporary directory, with the real openssl), the server starts with the flags of its
 * {@code java -jar} line (as expanded by bash), and then every {@code bin/synod} line runs through
 * the CLI and every {@code grpcurl} line through a client doing what grpcurl does, each checked
 * against the comment beside it. Skipped where bash or openssl is missing; needs no network.
 *
 * <p>Comments: "(...)" is a remark; "exit N" / "exit code N" is the exit code (with a message
 * starting "synod: ", stderr starts with the text before " ..."); anything else is what the
 * command prints, up to ": " (the rest says why). Environment variables the CLI reads become the
 * flags they stand for, and relative file names are taken in the temporary directory.
 */
class ReadmeSecurityTest {
  /** A CLI or grpcurl line: its leading VAR=value assignments, the command, its comment. */
  private static final Pattern COMMAND = Pattern.compile(
      "^((?:[A-Z_]+=\\S*\\s+)*)(bin/synod|grpcurl)\\b(.*?)(?:\\s{2,}#\\s?(.*))?$", Pattern.DOTALL);
  private static final Pattern ASSIGN = Pattern.compile("([A-Z_]+)=(\\S*)");
  private static final Pattern EXIT = Pattern.compile("exit(?: code)? (\\d+)");
  private static final List<String> FILE_FLAGS = List.of("--tls-ca", "--tls-cert", "--tls-key", "-cacert", "-cert",
      "-key");

  @TempDir Path dir;
  private final Map<String, String> shellVariables = new LinkedHashMap<>();
  private final List<String> mismatches = new ArrayList<>();

  @BeforeAll
  static void needsBashAndOpenssl() {
    Assumptions.assumeTrue(runs("bash", "-c", "true") && runs("openssl", "version"),
        "bash and openssl run the README's commands");
  }

  private static boolean runs(String... command) {
    try {
      return new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String security() throws IOException {
    String readme = Files.readString(Repository.root().resolve("README.md"));
    int start = readme.indexOf("\n## Security\n");
    assertTrue(start >= 0, "README has a Security section");
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  /** The lines of the first fenced block (```sh) holding {@code marker}, continuation lines joined. */
  private static List<String> shBlock(String text, String marker) {
    int at = text.indexOf(marker);
    assertTrue(at >= 0, "a block with " + marker);
    int open = text.lastIndexOf("```sh\n", at);
    int close = text.indexOf("\n```", at);
    return joined(text.substring(open + "```sh\n".length(), close + 1));
  }

  /** The lines of the indented (4 spaces) block following {@code marker}. */
  private static List<String> indentedBlockAfter(String text, String marker) {
    int at = text.indexOf(marker);
    assertTrue(at >= 0, "text " + marker);
    StringBuilder block = new StringBuilder();
    boolean in = false;
    for (String line : text.substring(at).split("\n", -1)) {
      if (line.startsWith("    ")) {
        in = true;
        block.append(line.substring(4)).append('\n');
      } else if (in && !line.isBlank()) {
        break;
      }
    }
    return joined(block.toString());
  }

  private static List<String> joined(String block) {
    List<String> lines = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : block.split("\n")) {
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
      } else {
        lines.add(current.append(line).toString());
        current.setLength(0);
      }
    }
    return lines;
  }

  @Test
  void theTlsWalkThroughAndTheProtectedNodeRunAsWritten() throws Exception {
    String security = security();
    List<String> setup = shBlock(security, "openssl req -x509");
    // The block up to the server's command runs in bash; the command's words are printed instead.
    StringBuilder script = new StringBuilder("set -euo pipefail\nserver() { printf '%s\\0' \"$@\" > server.args; }\n");
    boolean sawServer = false;
    for (String line : setup) {
      if (line.startsWith("java -jar server/target/synod-server.jar")) {
        script.append("server").append(line.substring("java -jar server/target/synod-server.jar".length())).append('\n');
        sawServer = true;
      } else {
        script.append(line).append('\n');
      }
    }
    assertTrue(sawServer, "the block starts the server with java -jar server/target/synod-server.jar");
    bash(script.toString(), Map.of());
    List<String> flags = new ArrayList<>();
    for (String arg : Files.readString(dir.resolve("server.args")).split("\0")) {
      flags.add(arg.startsWith("tls/") || arg.startsWith("synod-") ? dir.resolve(arg).toString() : arg);
    }
    assertTrue(flags.contains("--superuser-digest"), "the TLS server has a superuser: " + flags);
    try (SynodNode node = TlsNodes.start(dir.resolve("unused"), flags.toArray(String[]::new))) {
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : shBlock(security, "T=\"--tls-ca")) {
        run(line, node.port(), env);
      }
      for (String line : shBlock(security, "export SYNOD_TLS_CA")) {
        run(line, node.port(), env);
      }
    }
    assertEquals(List.of(), mismatches);
  }

  @Test
  void theAuthenticationExamplesRunAsWritten() throws Exception {
    String security = security();
    try (SynodNode node = TlsNodes.start(dir.resolve("data"))) {
      for (String line : indentedBlockAfter(security, "With grpcurl, against the plaintext server")) {
        run(line, node.port(), new LinkedHashMap<>());
      }
    }
    assertEquals(List.of(), mismatches);
    // The two ways the section gives to make a digest agree with the server's.
    Matcher shown = Pattern.compile("`([^`]*bob:secret \\| openssl[^`]*)`").matcher(security);
    assertTrue(shown.find(), "the section shows how to make bob's digest with openssl");
    assertEquals(DigestAuth.digest("bob:secret"), "bob:" + bash(shown.group(1), Map.of()).trim());
    assertTrue(security.contains("dev.synod.server.auth.DigestMain bob:secret"));
    Class.forName("dev.synod.server.auth.DigestMain").getMethod("main", String[].class);
  }

  @Test
  void theEnvironmentVariablesNamedAreTheCliOptionsDefaults() {
    Map<String, String> defaults = new LinkedHashMap<>();
    for (java.lang.reflect.Field f : SynodCli.class.getDeclaredFields()) {
      picocli.CommandLine.Option option = f.getAnnotation(picocli.CommandLine.Option.class);
      if (option != null) {
        for (String name : option.names()) {
          defaults.put(name, option.defaultValue());
        }
      }
    }
    for (Map.Entry<String, String> e : ENV_FLAGS.entrySet()) {
      assertTrue(defaults.getOrDefault(e.getValue(), "").startsWith("${env:" + e.getKey()),
          e.getValue() + " defaults to $" + e.getKey() + ": " + defaults.get(e.getValue()));
    }
  }

  private static final Map<String, String> ENV_FLAGS = Map.of("SYNOD_TLS_CA", "--tls-ca",
      "SYNOD_TLS_CERT", "--tls-cert", "SYNOD_TLS_KEY", "--tls-key", "SYNOD_AUTH", "--auth");

  // -------------------------------------------------------------------------------------------

  /** Runs one line of a block: an assignment, an export, bin/synod or grpcurl. */
  private void run(String line, int port, Map<String, String> env) throws Exception {
    String trimmed = line.strip();
    if (trimmed.isEmpty() || trimmed.startsWith("#")) {
      return;
    }
    if (trimmed.startsWith("export ")) {
      for (String word : words(trimmed.substring("export ".length()), env)) {
        int eq = word.indexOf('=');
        env.put(word.substring(0, eq), word.substring(eq + 1));
      }
      return;
    }
    Matcher command = COMMAND.matcher(trimmed);
    if (!command.matches()) {
      Matcher assign = Pattern.compile("([A-Z_]+)=(.*)").matcher(trimmed);
      assertTrue(assign.matches(), "a line this test cannot run: " + line);
      // The shell computes the value (a quoted string, or $(...) with openssl).
      shellVariables.put(assign.group(1), bash("printf %s " + assign.group(2), env));
      return;
    }
    Map<String, String> lineEnv = new LinkedHashMap<>(env);
    Matcher assigns = ASSIGN.matcher(command.group(1));
    while (assigns.find()) {
      lineEnv.put(assigns.group(1), assigns.group(2));
    }
    List<String> args = words(command.group(3), lineEnv);
    String comment = command.group(4) == null ? "" : command.group(4).strip();
    if (command.group(2).equals("bin/synod")) {
      synod(trimmed, args, lineEnv, comment, port);
    } else {
      grpcurl(trimmed, args, comment, port);
    }
  }

  private void synod(String line, List<String> args, Map<String, String> env, String comment, int port) {
    List<String> all = new ArrayList<>();
    ENV_FLAGS.forEach((variable, flag) -> {
      String value = env.getOrDefault(variable, "");
      if (!value.isEmpty()) {
        all.addAll(List.of(flag, value));
      }
    });
    all.addAll(args);
    for (int i = 0; i + 1 < all.size(); i++) {
      if (FILE_FLAGS.contains(all.get(i))) {
        all.set(i + 1, dir.resolve(all.get(i + 1)).toString());
      }
    }
    CliRunner.Result r = new CliRunner("127.0.0.1:" + port, dir.resolve("history")).run(all.toArray(String[]::new));
    Matcher exit = EXIT.matcher(comment);
    int code = exit.find() ? Integer.parseInt(exit.group(1)) : 0;
    if (r.code() != code) {
      mismatches.add(line + ": exit " + r.code() + " (" + r.err().strip() + ")");
    } else if (code != 0 && comment.startsWith("synod: ")) {
      String message = comment.substring(0, comment.indexOf(" ...") < 0 ? comment.length() : comment.indexOf(" ..."));
      if (!r.err().startsWith(message)) {
        mismatches.add(line + ": printed " + r.err().strip());
      }
    } else if (code == 0 && !comment.isEmpty() && !comment.startsWith("(")) {
      String want = comment.contains(": ") ? comment.substring(0, comment.indexOf(": ")) : comment;
      String got = String.join(" ", r.out().strip().split("\\s+"));
      if (!got.equals(want)) {
        mismatches.add(line + ": printed '" + got + "'");
      }
    }
  }

  private void grpcurl(String line, List<String> args, String comment, int port) throws Exception {
    Metadata headers = new Metadata();
    String ca = null;
    String cert = null;
    String key = null;
    boolean plaintext = false;
    String data = null;
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "-plaintext" -> plaintext = true;
        case "-cacert" -> ca = args.get(++i);
        case "-cert" -> cert = args.get(++i);
        case "-key" -> key = args.get(++i);
        case "-d" -> data = args.get(++i);
        case "-H" -> {
          String header = args.get(++i);
          int colon = header.indexOf(':');
          assertEquals(AuthInterceptor.AUTH_HEADER.name(), header.substring(0, colon), line);
          headers.put(AuthInterceptor.AUTH_HEADER, header.substring(colon + 1).strip());
        }
        default -> {
          assertFalse(args.get(i).startsWith("-"), "a grpcurl flag this test does not know: " + args.get(i));
          rest.add(args.get(i));
        }
      }
    }
    assertEquals(2, rest.size(), "grpcurl [flags] ADDRESS (list | service/Method): " + line);
    assertTrue(rest.get(0).endsWith(":7070"), "the README's servers listen on 7070: " + line);
    String host = rest.get(0).substring(0, rest.get(0).indexOf(':'));
    ChannelCredentials credentials;
    if (plaintext) {
      assertTrue(ca == null && cert == null, "-plaintext with certificates: " + line);
      credentials = InsecureChannelCredentials.create();
    } else {
      // grpcurl checks that the server's certificate names the host dialled, as this channel does.
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(dir.resolve(ca).toFile());
      if (cert != null) {
        b.keyManager(dir.resolve(cert).toFile(), dir.resolve(key).toFile());
      }
      credentials = b.build();
    }
    ManagedChannel channel = Grpc.newChannelBuilderForAddress(host, port, credentials).build();
    try {
      Channel withHeaders = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
      String output;
      if (rest.get(1).equals("list")) {
        output = String.join("\n", services(withHeaders));
        if (!output.contains("synod.v1.Synod")) {
          mismatches.add(line + ": listed " + output);
        }
        return;
      }
      int slash = rest.get(1).indexOf('/');
      assertTrue(data != null, "a call needs -d: " + line);
      output = new GrpcurlEmulator(withHeaders).call(rest.get(1).substring(0, slash), rest.get(1).substring(slash + 1),
          List.of(data), false, 0);
      if (output.startsWith("ERROR") != comment.contains("ERROR")) {
        mismatches.add(line + ": printed " + output);
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** What grpcurl's {@code list} prints: the services reflection names. */
  private static List<String> services(Channel channel) throws Exception {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            names.complete(r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList());
          }

          @Override
          public void onError(Throwable t) {
            names.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    try {
      return names.get(15, TimeUnit.SECONDS);
    } finally {
      requests.onCompleted();
    }
  }

  /** The words bash makes of {@code text} (quotes removed, variables expanded), comments dropped. */
  private List<String> words(String text, Map<String, String> env) throws Exception {
    String out = bash("printf '%s\\0' " + text, env);
    List<String> words = new ArrayList<>();
    for (String w : out.split("\0")) {
      if (!w.isEmpty()) {
        words.add(w);
      }
    }
    return words;
  }

  /** Runs {@code script} in bash in the temporary directory; returns its stdout. */
  private String bash(String script, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -euo pipefail\n" + script).directory(dir.toFile());
    pb.environment().putAll(shellVariables);
    pb.environment().putAll(env);
    Process p = pb.start();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes(), UTF_8);
      } catch (IOException e) {
        return e.toString();
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash finished: " + script);
    assertEquals(0, p.exitValue(), "bash " + script + "\n" + err.get());
    return out;
  }
}
