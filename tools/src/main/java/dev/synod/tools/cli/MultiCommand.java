package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.api.v1.OpResult;
import dev.synod.client.MultiFailedException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code multi FILE}: applies the operations of a file atomically (all or none). */
@Command(name = "multi", description = {"Apply the operations in FILE atomically: all or none.",
    "FILE has one JSON object per line, e.g.",
    "  {\"op\":\"check\",\"path\":\"/app\",\"version\":1}",
    "  {\"op\":\"create\",\"path\":\"/app/cfg\",\"data\":\"{}\"}",
    "  {\"op\":\"set\",\"path\":\"/app\",\"data\":\"v2\"}",
    "  {\"op\":\"delete\",\"path\":\"/app/old\",\"version\":0}",
    "create also takes kind (EPHEMERAL, CONTAINER, TTL), sequential, ttl_ms; data_base64 for bytes."})
final class MultiCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "FILE", description = "The operations (- for stdin).")
  String file;

  @Override
  public Integer call() throws IOException {
    List<MultiFile.Entry> entries = read();
    List<OpResult> results;
    try {
      results = client().multi(entries.stream().map(MultiFile.Entry::toOp).toList());
    } catch (MultiFailedException m) {
      // Named as the server names it (op_index counts from 0), and by its line in the file.
      Failures.Report inner = Failures.describe(m.failure());
      MultiFile.Entry failed = entries.get(m.failedIndex());
      throw new CliException(inner.exitCode(), "op_index " + m.failedIndex() + " (" + failed.op() + " "
          + failed.path() + ", line " + failed.line() + " of " + (file.equals("-") ? "stdin" : file)
          + ") failed: " + inner.message() + " (nothing was applied)");
    }
    Printer p = printer();
    JsonArray all = new JsonArray();
    for (int i = 0; i < entries.size(); i++) {
      MultiFile.Entry e = entries.get(i);
      OpResult r = results.get(i);
      String path = r.hasCreate() ? r.getCreate().getPath() : e.path();
      if (p.json()) {
        JsonObject o = new JsonObject();
        o.addProperty("op", e.op());
        o.addProperty("path", path);
        if (r.hasCreate()) {
          o.add("stat", Render.stat(r.getCreate().getStat()));
        } else if (r.hasSetData()) {
          o.add("stat", Render.stat(r.getSetData().getStat()));
        }
        all.add(o);
      } else {
        p.line(e.op() + " " + path + (r.hasSetData() ? " (version " + r.getSetData().getStat().getVersion() + ")" : ""));
      }
    }
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.add("results", all);
      p.json(o);
    }
    return ExitCodes.OK;
  }

  private List<MultiFile.Entry> read() throws IOException {
    if (file.equals("-")) {
      return MultiFile.parse(new InputStreamReader(ctx().in, StandardCharsets.UTF_8), "stdin");
    }
    try (Reader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
      return MultiFile.parse(r, file);
    } catch (NoSuchFileException e) {
      throw CliException.usage("no such file: " + file);
    }
  }
}
