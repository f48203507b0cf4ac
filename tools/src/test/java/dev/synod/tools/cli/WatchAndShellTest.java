package dev.synod.tools.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.synod.client.SynodClient;
import dev.synod.testing.Eventually;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jline.reader.Candidate;
import org.jline.reader.impl.DefaultParser;
import org.junit.jupiter.api.Test;

/** {@code watch --count}, the shell (one session for every line, history) and its Tab completion. */
class WatchAndShellTest extends OneServerCliTest {
  /** Starts {@code watch} in the background; returns once its watch is registered (it said so on stderr). */
  static CompletableFuture<Integer> watchInBackground(ByteArrayOutputStream out, CliRunner.SyncBuffer err,
      String... args) throws InterruptedException {
    CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> cli.runTo("", out, err, args));
    Eventually.eventually(Duration.ofSeconds(10), "the watch to start",
        () -> err.toString().contains("watching") || code.isDone());
    return code;
  }

  @Test
  void watchPrintsEventsAndStopsAfterCount() throws Exception {
    assertEquals(0, cli.run("create", "/w1").code());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CliRunner.SyncBuffer err = new CliRunner.SyncBuffer();
    CompletableFuture<Integer> code = watchInBackground(out, err, "watch", "--recursive", "--data", "--count", "3", "/w1");
    assertEquals(0, cli.run("set", "/w1", "v1").code());
    assertEquals(0, cli.run("create", "/w1/c", "kid").code());
    assertEquals(0, cli.run("delete", "/w1/c").code());
    assertEquals(0, cli.run("set", "/w1", "after the count").code());
    assertEquals(0, code.get(10, TimeUnit.SECONDS), err.toString());
    List<String> lines = List.of(out.toString(UTF_8).split("\n"));
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("\\d+ NODE_DATA_CHANGED /w1 v1"), lines.get(0));
    assertTrue(lines.get(1).matches("\\d+ NODE_CREATED /w1/c kid"), lines.get(1));
    assertTrue(lines.get(2).matches("\\d+ NODE_DELETED /w1/c"), lines.get(2));
  }

  @Test
  void watchAsJsonSeesTheNodeNotItsChildren() throws Exception {
    assertEquals(0, cli.run("create", "/w2").code());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CliRunner.SyncBuffer err = new CliRunner.SyncBuffer();
    // --json keeps stdout pure JSON; the "watching" note goes to stderr.
    CompletableFuture<Integer> code = watchInBackground(out, err, "watch", "-n", "3", "--json", "/w2");
    assertEquals(0, cli.run("create", "/w2/kid").code());
    assertEquals(0, cli.run("set", "/w2/kid", "not an event of /w2").code());
    assertEquals(0, cli.run("set", "/w2", "x").code());
    assertEquals(0, cli.run("delete", "/w2/kid").code());
    assertEquals(0, code.get(10, TimeUnit.SECONDS), err.toString());
    List<JsonObject> events = out.toString(UTF_8).lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    assertEquals(List.of("NODE_CHILDREN_CHANGED", "NODE_DATA_CHANGED", "NODE_CHILDREN_CHANGED"),
        events.stream().map(e -> e.get("type").getAsString()).toList());
    assertTrue(events.stream().allMatch(e -> e.get("path").getAsString().equals("/w2")), events.toString());
    assertEquals(1, events.get(1).getAsJsonObject("stat").get("version").getAsInt());
    assertTrue(events.get(2).get("zxid").getAsLong() > events.get(1).get("zxid").getAsLong());
  }

  @Test
  void shellRunsEveryLineInOneSessionAndKeepsHistory() throws Exception {
    Path history = dir.resolve("shell-history");
    CliRunner shellCli = new CliRunner(server.address(), history);
    CliRunner.Result r = shellCli.runWithInput(String.join("\n",
        "create -e /sh-eph 'two words'",
        "get /sh-eph",
        "session --json",
        "get /missing",
        "exit", ""), "shell");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("two words\n"), r.out());
    assertTrue(r.out().contains("\"state\":\"CONNECTED\""), r.out());
    assertTrue(r.err().contains("synod: no such node: /missing"), r.err());
    // The ephemeral lived across lines (one session) and went with the shell's session.
    assertEquals(ExitCodes.NO_NODE, cli.run("stat", "/sh-eph").code());
    List<String> saved = Files.readAllLines(history);
    assertTrue(saved.stream().anyMatch(l -> l.contains("create -e /sh-eph")), saved.toString());
  }

  @Test
  void completerOffersCommandsThenChildPaths() throws Exception {
    for (String p : List.of("/cmp", "/cmp/alpha", "/cmp/alps", "/cmp/beta", "/cmp/alpha/deep")) {
      assertEquals(0, cli.run("create", p).code());
    }
    try (SynodClient c = SynodClient.builder().connectString(server.address()).build().start()) {
      assertTrue(c.blockUntilConnected(Duration.ofSeconds(5)));
      ShellCompleter completer = new ShellCompleter(List.of("ls", "get", "set"), c::getChildren);
      assertEquals(List.of("/cmp/alpha", "/cmp/alps"), completer.paths("/cmp/al"));
      assertEquals(List.of("/cmp/alpha", "/cmp/alps", "/cmp/beta"), completer.paths("/cmp/"));
      assertEquals(List.of("/cmp/alpha/deep"), completer.paths("/cmp/alpha/"));
      assertTrue(completer.paths("/c").contains("/cmp"));
      assertEquals(List.of(), completer.paths("/no-such/x"), "a missing parent offers nothing");
      assertEquals(List.of("/"), completer.paths(""));

      assertEquals(List.of("/cmp/alpha", "/cmp/alps"), complete(completer, "get /cmp/al"));
      assertEquals(List.of("ls", "get", "set"), complete(completer, "l"));
      assertEquals(List.of(), complete(completer, "get --st"), "options are not paths");
    }
  }

  private static List<String> complete(ShellCompleter completer, String line) {
    List<Candidate> out = new java.util.ArrayList<>();
    completer.complete(null, new DefaultParser().parse(line, line.length()), out);
    return out.stream().map(Candidate::value).toList();
  }

  @Test
  void inTheShellGetEphemeralsListsTheSessionsOwn_andWatchesFireAndAreRemoved() throws Exception {
    CliCommandsTest.ok("create", "/se", "");
    CliCommandsTest.ok("create", "/se/other", "");
    CliRunner shellCli = new CliRunner(server.address(), dir.resolve("shell-history-2"));
    CliRunner.Result r = shellCli.runWithInput(String.join("\n",
        "create -e /se/mine-1",
        "create /se/sub",
        "create -e /se/sub/mine-2",
        "getEphemerals /se",
        "get -w /se/other",
        "removewatches /se/other",
        "removewatches /se/other",
        "exit", ""), "shell");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("/se/mine-1\n/se/sub/mine-2\n"), r.out());
    assertEquals(1, r.err().split("this session had no watch on /se/other", -1).length - 1,
        "the first removed the watch get -w left, the second found none: " + r.err());
  }
}
