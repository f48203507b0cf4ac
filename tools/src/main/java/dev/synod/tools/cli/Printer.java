package dev.synod.tools.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes a command's result: text lines or raw bytes, or one JSON document per line. */
final class Printer {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

  private final CliContext ctx;
  private final boolean json;

  Printer(CliContext ctx, boolean json) {
    this.ctx = ctx;
    this.json = json;
  }

  boolean json() {
    return json;
  }

  void line(String text) {
    ctx.out.println(text);
    ctx.out.flush();
  }

  /** One JSON document on one line (JSON lines, so a stream of events stays parseable). */
  void json(JsonElement e) {
    ctx.out.println(GSON.toJson(e));
    ctx.out.flush();
  }

  /** A node's value as it is; a newline follows unless the value ends with one or is empty. */
  void value(byte[] data) {
    ctx.out.flush();
    try {
      ctx.rawOut.write(data);
      ctx.rawOut.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (data.length > 0 && data[data.length - 1] != '\n') {
      line("");
    }
  }

  /** A note for the user that is not the command's result (it goes to stderr). */
  void note(String text) {
    ctx.err.println(text);
    ctx.err.flush();
  }

  static Gson gson() {
    return GSON;
  }
}
