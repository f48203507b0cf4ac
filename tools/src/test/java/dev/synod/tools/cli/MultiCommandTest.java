package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code multi} from a JSON-lines file: all or nothing, results as text and JSON, file errors with line numbers. */
class MultiCommandTest extends OneServerCliTest {
  static Path file(String name, String... lines) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, List.of(lines));
    return f;
  }

  @Test
  void appliesEveryOpAndPrintsResults() throws Exception {
    assertEquals(0, cli.run("create", "/m1", "v0").code());
    Path ops = file("ok.jsonl",
        "# set up the app",
        "{\"op\":\"check\",\"path\":\"/m1\",\"version\":0}",
        "",
        "{\"op\":\"create\",\"path\":\"/m1/cfg\",\"data\":\"{}\"}",
        "{\"op\":\"create\",\"path\":\"/m1/job-\",\"sequential\":true,\"data_base64\":\"AQI=\"}",
        "{\"op\":\"set\",\"path\":\"/m1\",\"data\":\"v1\"}");
    CliRunner.Result r = cli.run("multi", ops.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(List.of("check /m1", "create /m1/cfg", "create /m1/job-0000000001", "set /m1 (version 1)"), r.lines());
    assertEquals("v1\n", cli.run("get", "/m1").out());
    assertEquals("{}\n", cli.run("get", "/m1/cfg").out());

    Path more = file("more.jsonl",
        "{\"op\":\"delete\",\"path\":\"/m1/cfg\",\"version\":0}",
        "{\"op\":\"create\",\"path\":\"/m1/t\",\"kind\":\"TTL\",\"ttl_ms\":60000}");
    CliRunner.Result j = cli.run("multi", more.toString(), "--json");
    assertEquals(0, j.code(), j.err());
    JsonArray results = JsonParser.parseString(j.out()).getAsJsonObject().getAsJsonArray("results");
    assertEquals("delete", results.get(0).getAsJsonObject().get("op").getAsString());
    assertEquals("/m1/cfg", results.get(0).getAsJsonObject().get("path").getAsString());
    assertEquals("TTL", results.get(1).getAsJsonObject().getAsJsonObject("stat").get("kind").getAsString());
  }

  @Test
  void aFailingOpAppliesNothing() throws Exception {
    assertEquals(0, cli.run("create", "/m2", "v0").code());
    Path ops = file("bad.jsonl",
        "{\"op\":\"create\",\"path\":\"/m2/new\"}",
        "{\"op\":\"set\",\"path\":\"/m2\",\"data\":\"x\",\"version\":7}");
    CliRunner.Result r = cli.run("multi", ops.toString());
    assertEquals(ExitCodes.BAD_VERSION, r.code());
    assertEquals("synod: op_index 1 (set /m2, line 2 of " + ops + ") failed: version mismatch: /m2"
        + " (nothing was applied)\n", r.err());
    assertEquals(ExitCodes.NO_NODE, cli.run("stat", "/m2/new").code());
  }

  @Test
  void readsStdin() {
    CliRunner.Result r = cli.runWithInput("{\"op\":\"create\",\"path\":\"/m3\",\"data\":\"in\"}\n", "multi", "-");
    assertEquals(0, r.code(), r.err());
    assertEquals("in\n", cli.run("get", "/m3").out());
  }

  @Test
  void fileErrorsNameTheLine() throws Exception {
    assertBad("{\"op\":\"crate\",\"path\":\"/x\"}", "f1.jsonl:1: unknown op \"crate\"");
    assertBad("{\"op\":\"set\",\"path\":\"/x\",\"versoin\":1}", "f2.jsonl:1: unknown field \"versoin\"");
    assertBad("{\"op\":\"create\",\"path\":\"x\"}", "must be an absolute path");
    assertBad("{\"op\":\"create\",\"path\":\"/x\",\"kind\":\"FOREVER\"}", "unknown kind \"FOREVER\"");
    assertBad("not json", "f5.jsonl:1:");
    assertBad("# only a comment", "no operations");
    CliRunner.Result missing = cli.run("multi", dir.resolve("missing.jsonl").toString());
    assertEquals(ExitCodes.USAGE, missing.code());
    assertTrue(missing.err().contains("no such file"), missing.err());
  }

  private int files;

  private void assertBad(String line, String expected) throws Exception {
    Path f = file("f" + (++files) + ".jsonl", line);
    CliRunner.Result r = cli.run("multi", f.toString());
    assertEquals(ExitCodes.USAGE, r.code(), r.err());
    assertTrue(r.err().contains(expected), r.err());
  }

  @Test
  void aMalformedLineIsNamedInWordsWithoutAJavaExceptionName() throws Exception {
    Path ops = file("cut.jsonl", "{\"op\":\"create\",\"path\":\"/m9\"}", "{\"op\":");
    CliRunner.Result r = cli.run("multi", ops.toString());
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().startsWith("synod: " + ops + ":2: not a JSON object: it ends too early"), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
  }
}
