package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** How stats and values look, as text and as JSON (field names as in the proto). */
final class Render {
  private Render() {}

  static JsonObject stat(Stat s) {
    JsonObject o = new JsonObject();
    o.addProperty("czxid", s.getCzxid());
    o.addProperty("mzxid", s.getMzxid());
    o.addProperty("pzxid", s.getPzxid());
    o.addProperty("ctime_ms", s.getCtimeMs());
    o.addProperty("mtime_ms", s.getMtimeMs());
    o.addProperty("version", s.getVersion());
    o.addProperty("cversion", s.getCversion());
    o.addProperty("aversion", s.getAversion());
    o.addProperty("ephemeral_owner", s.getEphemeralOwner());
    o.addProperty("data_length", s.getDataLength());
    o.addProperty("num_children", s.getNumChildren());
    o.addProperty("kind", s.getKind().name());
    o.addProperty("ttl_ms", s.getTtlMs());
    return o;
  }

  /** One "name  value" line per field, times as ISO-8601 too. */
  static List<String> statLines(Stat s) {
    List<String> lines = new ArrayList<>();
    add(lines, "czxid", Long.toString(s.getCzxid()));
    add(lines, "mzxid", Long.toString(s.getMzxid()));
    add(lines, "pzxid", Long.toString(s.getPzxid()));
    add(lines, "ctime", s.getCtimeMs() + " (" + Instant.ofEpochMilli(s.getCtimeMs()) + ")");
    add(lines, "mtime", s.getMtimeMs() + " (" + Instant.ofEpochMilli(s.getMtimeMs()) + ")");
    add(lines, "version", Integer.toString(s.getVersion()));
    add(lines, "cversion", Integer.toString(s.getCversion()));
    add(lines, "aversion", Integer.toString(s.getAversion()));
    add(lines, "ephemeral_owner", s.getEphemeralOwner() == 0 ? "0" : "0x" + Long.toHexString(s.getEphemeralOwner()));
    add(lines, "data_length", Integer.toString(s.getDataLength()));
    add(lines, "num_children", Integer.toString(s.getNumChildren()));
    add(lines, "kind", s.getKind().name());
    if (s.getKind() == NodeKind.TTL) {
      add(lines, "ttl_ms", Long.toString(s.getTtlMs()));
    }
    return lines;
  }

  private static void add(List<String> lines, String name, String value) {
    lines.add(String.format("%-16s%s", name, value));
  }

  /**
   * Adds a value to a JSON object: {@code "data"} with the text when it is valid UTF-8, else
   * {@code "data_base64"}.
   */
  static void data(JsonObject o, byte[] data) {
    String text = utf8(data);
    if (text != null) {
      o.addProperty("data", text);
    } else {
      o.addProperty("data_base64", Base64.getEncoder().encodeToString(data));
    }
  }

  /** The text, or null when the bytes are not valid UTF-8. */
  static String utf8(byte[] data) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** "/" + name under the root, parent + "/" + name elsewhere. */
  static String child(String parent, String name) {
    return parent.equals("/") ? "/" + name : parent + "/" + name;
  }
}
