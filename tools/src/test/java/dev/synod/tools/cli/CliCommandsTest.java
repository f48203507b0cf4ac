package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every one-shot command, as text and as JSON, and the exit codes of failures, against one real server. */
class CliCommandsTest extends OneServerCliTest {
  static CliRunner.Result ok(String... args) {
    CliRunner.Result r = cli.run(args);
    assertEquals(0, r.code(), () -> String.join(" ", args) + " failed: " + r.err());
    assertEquals("", r.err(), "no stderr on success");
    return r;
  }

  static JsonObject json(String... args) {
    CliRunner.Result r = ok(args);
    assertEquals(1, r.lines().size(), "one JSON document: " + r.out());
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  /** A failure: the exit code, one line on stderr starting "synod: ", nothing on stdout, no stack trace. */
  static String fails(int code, String... args) {
    CliRunner.Result r = cli.run(args);
    assertEquals(code, r.code(), () -> String.join(" ", args) + ": " + r.out() + r.err());
    assertTrue(r.err().startsWith("synod: "), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    assertEquals("", r.out());
    return r.err();
  }

  @Test
  void createGetSetStatAsText() {
    assertEquals(List.of("/t1"), ok("create", "/t1", "hello").lines());
    assertEquals("hello\n", ok("get", "/t1").out());
    assertEquals("", ok("set", "/t1", "world", "-v", "0").out());
    CliRunner.Result withStat = ok("get", "/t1", "--stat");
    assertTrue(withStat.out().startsWith("world\nczxid "), withStat.out());
    assertTrue(withStat.out().contains("\nversion         1\n"), withStat.out());
    List<String> stat = ok("stat", "/t1").lines();
    assertTrue(stat.contains("version         1"), stat.toString());
    assertTrue(stat.contains("data_length     5"), stat.toString());
    assertTrue(stat.contains("kind            PERSISTENT"), stat.toString());
    assertTrue(ok("set", "/t1", "again", "--stat").lines().contains("version         2"));
  }

  @Test
  void linearizableReads() {
    ok("create", "/lin", "v1");
    assertEquals("v1\n", ok("get", "-L", "/lin").out());
    assertTrue(ok("stat", "--linearizable", "/lin").out().contains("version "), "stat -L prints the stat");
    ok("create", "/lin/c", "x");
    assertEquals(List.of("c"), ok("ls", "-L", "/lin").lines());
  }

  @Test
  void createGetSetStatAsJson() {
    JsonObject created = json("create", "/t2", "v0", "--json");
    assertEquals("/t2", created.get("path").getAsString());
    assertEquals(0, created.getAsJsonObject("stat").get("version").getAsInt());
    JsonObject got = json("--json", "get", "/t2");
    assertEquals("v0", got.get("data").getAsString());
    assertEquals(2, got.getAsJsonObject("stat").get("data_length").getAsInt());
    assertEquals("PERSISTENT", got.getAsJsonObject("stat").get("kind").getAsString());
    JsonObject set = json("set", "/t2", "v1", "--json");
    assertEquals(1, set.getAsJsonObject("stat").get("version").getAsInt());
    JsonObject stat = json("stat", "/t2", "--json");
    assertEquals("/t2", stat.get("path").getAsString());
    assertEquals(1, stat.getAsJsonObject("stat").get("version").getAsInt());
    assertEquals(created.getAsJsonObject("stat").get("czxid"), stat.getAsJsonObject("stat").get("czxid"));
  }

  @Test
  void valuesFromFileStdinAndBinaryAsBase64(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("v.bin");
    Files.write(file, new byte[] {(byte) 0xff, 0, 1});
    ok("create", "/t3", "@" + file);
    JsonObject got = json("get", "/t3", "--json");
    assertFalse(got.has("data"));
    assertEquals("/wAB", got.get("data_base64").getAsString());
    CliRunner.Result fromStdin = cli.runWithInput("from stdin", "set", "/t3", "-");
    assertEquals(0, fromStdin.code(), fromStdin.err());
    assertEquals("from stdin\n", ok("get", "/t3").out());
    ok("set", "/t3", "@@literal");
    assertEquals("@literal\n", ok("get", "/t3").out());
    assertTrue(fails(ExitCodes.USAGE, "set", "/t3", "@" + tmp.resolve("missing")).contains("no such file"));
  }

  @Test
  void nodeKinds() {
    ok("create", "/t4");
    List<String> seq = ok("create", "-S", "/t4/job-", "x").lines();
    assertEquals(List.of("/t4/job-0000000000"), seq);
    assertEquals("/t4/job-0000000001", json("create", "--sequential", "/t4/job-", "--json").get("path").getAsString());
    JsonObject container = json("create", "-c", "/t4/box", "--json");
    assertEquals("CONTAINER", container.getAsJsonObject("stat").get("kind").getAsString());
    JsonObject ttl = json("create", "--ttl", "1m", "/t4/ttl", "--json");
    assertEquals("TTL", ttl.getAsJsonObject("stat").get("kind").getAsString());
    assertEquals(60_000, ttl.getAsJsonObject("stat").get("ttl_ms").getAsLong());
    // A one-shot ephemeral lives as long as the command's session: gone once the command exits.
    CliRunner.Result eph = cli.run("create", "-e", "/t4/eph", "--json");
    assertEquals(0, eph.code());
    assertNotEquals(0, JsonParser.parseString(eph.out()).getAsJsonObject().getAsJsonObject("stat")
        .get("ephemeral_owner").getAsLong());
    assertTrue(eph.err().contains("deleted when this command exits"), eph.err());
    fails(ExitCodes.NO_NODE, "stat", "/t4/eph");
    // Kinds exclude each other; durations are checked.
    fails(ExitCodes.USAGE, "create", "-e", "-c", "/t4/x");
    assertTrue(fails(ExitCodes.USAGE, "create", "--ttl", "soon", "/t4/x").contains("not a duration"));
  }

  @Test
  void lsAndTree() {
    ok("create", "/t5");
    ok("create", "/t5/a");
    ok("create", "/t5/a/x");
    ok("create", "/t5/b");
    assertEquals(List.of("a", "b"), ok("ls", "/t5").lines());
    JsonObject ls = json("ls", "/t5", "--json");
    assertEquals("/t5", ls.get("path").getAsString());
    assertEquals(List.of("a", "b"), ls.getAsJsonArray("children").asList().stream().map(e -> e.getAsString()).toList());
    assertEquals(List.of("/t5", "├── a", "│   └── x", "└── b"), ok("tree", "/t5").lines());
    assertEquals(List.of("/t5", "├── a", "└── b"), ok("tree", "/t5", "--depth", "1").lines());
    JsonObject tree = json("tree", "/t5", "--json");
    JsonArray top = tree.getAsJsonArray("children");
    assertEquals("/t5/a", top.get(0).getAsJsonObject().get("path").getAsString());
    assertEquals("/t5/a/x", top.get(0).getAsJsonObject().getAsJsonArray("children").get(0).getAsJsonObject()
        .get("path").getAsString());
    assertEquals(0, top.get(1).getAsJsonObject().getAsJsonArray("children").size());
    assertTrue(ok("ls").lines().contains("t5"), "ls defaults to /");
  }

  @Test
  void deleteAndDeleteRecursive() {
    ok("create", "/t6");
    ok("create", "/t6/a", "x");
    ok("create", "/t6/a/b");
    ok("create", "/t6/c");
    assertTrue(fails(ExitCodes.NOT_EMPTY, "delete", "/t6").contains("node has children: /t6"));
    assertTrue(fails(ExitCodes.BAD_VERSION, "delete", "/t6/c", "-v", "3").contains("version mismatch: /t6/c"));
    assertEquals("", ok("delete", "/t6/c", "-v", "0").out());
    assertEquals("/t6/a/b", json("rm", "/t6/a/b", "--json").get("deleted").getAsString());
    ok("create", "/t6/a/b");
    JsonObject all = json("delete-recursive", "/t6", "--json");
    assertEquals(3, all.get("count").getAsInt());
    fails(ExitCodes.NO_NODE, "stat", "/t6");
    ok("create", "/t6");
    ok("create", "/t6/z");
    assertEquals("", ok("deleteall", "/t6").out());
    assertTrue(fails(ExitCodes.NO_NODE, "deleteall", "/t6").contains("no such node: /t6"));
    fails(ExitCodes.USAGE, "delete-recursive", "/");
  }

  @Test
  void errorsHaveExitCodesAndOneLineMessages() {
    assertEquals("synod: no such node: /nope\n", fails(ExitCodes.NO_NODE, "get", "/nope"));
    fails(ExitCodes.NO_NODE, "create", "/nope/child");
    ok("create", "/t7", "v");
    assertEquals("synod: node already exists: /t7\n", fails(ExitCodes.NODE_EXISTS, "create", "/t7"));
    assertEquals("synod: version mismatch: /t7\n", fails(ExitCodes.BAD_VERSION, "set", "/t7", "w", "-v", "5"));
    assertTrue(fails(ExitCodes.USAGE, "get", "relative").contains("paths are absolute"));
    assertTrue(fails(ExitCodes.USAGE, "get", "/a//b").contains("invalid path"));
    assertTrue(fails(ExitCodes.USAGE, "frobnicate").contains("Unmatched argument"));
    assertTrue(fails(ExitCodes.USAGE, "get").contains("Missing required parameter"));
    assertTrue(fails(ExitCodes.USAGE, "set", "/t7", "x", "-v", "one").contains("-v"));
  }

  @Test
  void unreachableServerIsExitCodeSeven() throws Exception {
    CliRunner nobody = new CliRunner("127.0.0.1:" + TestServer.freePort(), dir.resolve("h2"));
    CliRunner.Result r = nobody.run("--connect-timeout", "300ms", "ls", "/");
    assertEquals(ExitCodes.UNAVAILABLE, r.code(), r.err());
    assertTrue(r.err().startsWith("synod: cannot connect to 127.0.0.1:"), r.err());
    CliRunner.Result status = nobody.run("status", "--timeout", "500ms");
    assertEquals(ExitCodes.UNAVAILABLE, status.code(), status.err());
    assertTrue(status.out().contains("unreachable"), status.out());
  }

  @Test
  void syncSessionAndStatus() {
    String synced = ok("sync").out();
    assertTrue(synced.matches("synced at zxid \\d+\n"), synced);
    assertTrue(json("sync", "--json").get("zxid").getAsLong() > 0);

    List<String> session = ok("session").lines();
    assertTrue(session.get(0).matches("session_id {6}0x[0-9a-f]+ \\(\\d+\\)"), session.get(0));
    assertEquals("timeout_ms      10000", session.get(1));
    assertEquals("server          " + server.address(), session.get(2));
    JsonObject s = json("session", "--json", "--session-timeout", "4s");
    assertTrue(s.get("session_id").getAsLong() > 0);
    assertEquals(4000, s.get("timeout_ms").getAsLong());
    assertEquals(server.address(), s.get("server").getAsString());
    assertEquals("CONNECTED", s.get("state").getAsString());

    List<String> status = ok("status").lines();
    assertTrue(status.get(0).startsWith("server "), status.toString());
    assertTrue(status.get(1).startsWith(server.address()), status.toString());
    assertTrue(status.get(1).contains(" standalone "), status.toString());
    assertEquals("", status.get(2));
    assertTrue(status.get(3).startsWith("leader 1: ballot "), status.toString());
    assertTrue(status.get(4).startsWith("member "), status.toString());
    assertTrue(status.get(5).matches("1 +voter +127\\.0\\.0\\.1:\\d+ +\\d+ +0"), status.get(5));
    JsonObject st = json("status", "--json");
    JsonObject only = st.getAsJsonArray("servers").get(0).getAsJsonObject();
    assertTrue(only.get("reachable").getAsBoolean());
    assertEquals(1, only.get("server_id").getAsInt());
    assertEquals(1, st.get("leader_id").getAsInt());
    assertEquals(0, only.get("lag_slots").getAsLong());
    assertEquals(1, st.getAsJsonArray("members").size());
  }

  @Test
  void lsRecursiveListsEveryNodeBelowDepthFirst_andLsStatAddsTheStat() {
    ok("create", "/r1", "a");
    ok("create", "/r1/b", "b");
    ok("create", "/r1/b/c", "c");
    ok("create", "/r1/d", "d");
    assertEquals(List.of("/r1/b", "/r1/b/c", "/r1/d"), ok("ls", "-R", "/r1").lines());
    List<String> withStat = ok("ls", "--stat", "/r1").lines();
    assertEquals(List.of("b", "d"), withStat.subList(0, 2));
    assertTrue(withStat.contains("num_children    2"), withStat.toString());
  }

  @Test
  void getWithWatchWaitsForTheNextChangeAndPrintsIt() throws Exception {
    ok("create", "/gw", "v0");
    java.util.concurrent.CompletableFuture<CliRunner.Result> waiting =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> cli.run("get", "-w", "/gw"));
    // The watch is left by the read; change the node until the command has seen a change.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    int n = 0;
    while (!waiting.isDone() && System.nanoTime() < deadline) {
      cli.run("set", "/gw", "v" + (++n));
      try {
        waiting.get(100, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException notYet) {
        // not fired yet
      }
    }
    CliRunner.Result r = waiting.get(1, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("WATCHER:: NODE_DATA_CHANGED /gw (zxid "), r.out());
  }

  @Test
  void aPrefixDeleteAsksFirst_andWithYesDeletesEveryMatchingSubtree() {
    ok("create", "/px", "");
    ok("create", "/px/job-1", "");
    ok("create", "/px/job-1/part", "");
    ok("create", "/px/job-2", "");
    ok("create", "/px/keep", "");
    String refused = fails(ExitCodes.USAGE, "delete-recursive", "--prefix", "/px/job-");
    assertTrue(refused.contains("3 nodes start with /px/job-") && refused.contains("--yes"), refused);
    assertEquals(List.of("job-1", "job-2", "keep"), ok("ls", "/px").lines(), "nothing deleted unasked");
    ok("delete-recursive", "--prefix", "/px/job-", "--yes");
    assertEquals(List.of("keep"), ok("ls", "/px").lines());
  }
}
