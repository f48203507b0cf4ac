package dev.synod.tools.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.synod.api.v1.NodeKind;
import dev.synod.client.CreateOptions;
import dev.synod.client.Op;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The file {@code synod multi} reads: JSON lines, one operation per line; blank lines and lines
 * starting with {@code #} are skipped.
 *
 * <pre>
 * {"op":"check",  "path":"/app", "version":1}
 * {"op":"create", "path":"/app/cfg", "data":"{}"}
 * {"op":"create", "path":"/q/job-", "sequential":true, "kind":"EPHEMERAL"}
 * {"op":"set",    "path":"/app", "data":"v2", "version":-1}
 * {"op":"delete", "path":"/app/old"}
 * </pre>
 *
 * Fields: {@code op} (create, set, delete, check); {@code path}; {@code data} (text) or {@code
 * data_base64}; {@code version} (set, delete, check; default -1 = any); for create {@code kind}
 * (PERSISTENT, EPHEMERAL, CONTAINER, TTL), {@code sequential}, {@code ttl_ms}. Unknown fields are
 * errors, so a typo cannot silently drop a condition.
 */
final class MultiFile {
  /** One parsed line: the op, what to call it in the output, and its line in the file. */
  record Entry(String op, String path, Op toOp, int line) {
    Entry(String op, String path, Op toOp) {
      this(op, path, toOp, 0);
    }

    Entry atLine(int lineNo) {
      return new Entry(op, path, toOp, lineNo);
    }
  }

  private static final Set<String> CREATE_FIELDS = Set.of("op", "path", "data", "data_base64", "kind", "sequential", "ttl_ms");
  private static final Set<String> SET_FIELDS = Set.of("op", "path", "data", "data_base64", "version");
  private static final Set<String> VERSIONED_FIELDS = Set.of("op", "path", "version");

  private MultiFile() {}

  static List<Entry> parse(Reader reader, String source) throws IOException {
    List<Entry> ops = new ArrayList<>();
    BufferedReader in = new BufferedReader(reader);
    String line;
    int lineNo = 0;
    while ((line = in.readLine()) != null) {
      lineNo++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      try {
        ops.add(entry(t).atLine(lineNo));
      } catch (JsonParseException e) {
        throw CliException.usage(source + ":" + lineNo + ": not a JSON object: " + jsonProblem(e) + ": " + t);
      } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
        throw CliException.usage(source + ":" + lineNo + ": " + e.getMessage());
      }
    }
    if (ops.isEmpty()) {
      throw CliException.usage(source + ": no operations");
    }
    return ops;
  }

  /**
   * What is wrong with a line Gson could not parse, in words: its messages name Java exceptions
   * ("java.io.EOFException: End of input at line 1 column 8 path $.op").
   */
  private static String jsonProblem(JsonParseException e) {
    String m = String.valueOf(e.getMessage());
    if (e.getCause() instanceof java.io.EOFException || m.contains("EOFException") || m.contains("End of input")) {
      return "it ends too early (a missing value, quote or closing brace)";
    }
    m = m.replaceFirst("^[a-zA-Z.]+(Exception|Error): ", "");
    int see = m.indexOf("\nSee ");
    return see > 0 ? m.substring(0, see) : m;
  }

  private static Entry entry(String line) {
    JsonElement parsed = JsonParser.parseString(line);
    if (!parsed.isJsonObject()) {
      throw new IllegalArgumentException("expected a JSON object, got " + line);
    }
    JsonObject o = parsed.getAsJsonObject();
    String op = string(o, "op", null);
    if (op == null) {
      throw new IllegalArgumentException("missing \"op\" (create, set, delete or check)");
    }
    String path = string(o, "path", null);
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("\"path\" must be an absolute path");
    }
    return switch (op) {
      case "create" -> {
        only(o, CREATE_FIELDS);
        yield new Entry(op, path, Op.create(path, data(o), createOptions(o)));
      }
      case "set" -> {
        only(o, SET_FIELDS);
        yield new Entry(op, path, Op.setData(path, data(o), version(o)));
      }
      case "delete" -> {
        only(o, VERSIONED_FIELDS);
        yield new Entry(op, path, Op.delete(path, version(o)));
      }
      case "check" -> {
        only(o, VERSIONED_FIELDS);
        yield new Entry(op, path, Op.check(path, version(o)));
      }
      default -> throw new IllegalArgumentException("unknown op \"" + op + "\" (create, set, delete or check)");
    };
  }

  private static CreateOptions createOptions(JsonObject o) {
    String kindName = string(o, "kind", "PERSISTENT");
    NodeKind kind;
    try {
      kind = NodeKind.valueOf(kindName);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown kind \"" + kindName + "\" (PERSISTENT, EPHEMERAL, CONTAINER, TTL)");
    }
    long ttlMs = o.has("ttl_ms") ? o.get("ttl_ms").getAsLong() : 0;
    CreateOptions c = kind == NodeKind.TTL ? CreateOptions.ttl(Duration.ofMillis(ttlMs)) : CreateOptions.of(kind);
    if (kind != NodeKind.TTL && ttlMs != 0) {
      throw new IllegalArgumentException("\"ttl_ms\" needs \"kind\":\"TTL\"");
    }
    boolean sequential = o.has("sequential") && bool(o.get("sequential"), "sequential");
    return sequential ? c.sequential() : c;
  }

  private static byte[] data(JsonObject o) {
    if (o.has("data") && o.has("data_base64")) {
      throw new IllegalArgumentException("give \"data\" or \"data_base64\", not both");
    }
    if (o.has("data_base64")) {
      return Base64.getDecoder().decode(string(o, "data_base64", ""));
    }
    return string(o, "data", "").getBytes(StandardCharsets.UTF_8);
  }

  private static int version(JsonObject o) {
    return o.has("version") ? o.get("version").getAsInt() : -1;
  }

  private static void only(JsonObject o, Set<String> allowed) {
    for (String key : o.keySet()) {
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException("unknown field \"" + key + "\" for op \"" + o.get("op").getAsString() + "\"");
      }
    }
  }

  private static String string(JsonObject o, String key, String otherwise) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      return otherwise;
    }
    if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isString()) {
      throw new IllegalArgumentException("\"" + key + "\" must be a string");
    }
    return e.getAsString();
  }

  private static boolean bool(JsonElement e, String key) {
    if (!e.isJsonPrimitive() || !((JsonPrimitive) e).isBoolean()) {
      throw new IllegalArgumentException("\"" + key + "\" must be true or false");
    }
    return e.getAsBoolean();
  }
}
