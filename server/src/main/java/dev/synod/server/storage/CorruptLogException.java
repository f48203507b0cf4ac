package dev.synod.server.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The write-ahead log is damaged in a way a crash cannot explain (a bad record with good records
 * after it, a bad record in a finished segment, or missing indexes), or records the caller needs
 * are missing. The server must not start: it would otherwise forget promises and accepted values it
 * gave, or serve a state that silently lacks committed transactions.
 */
public final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  public CorruptLogException(String message) {
    super(message);
  }

  /** A damaged record at {@code offset} of {@code file}. */
  static CorruptLogException at(Path file, long offset, long lastGoodIndex, String problem) {
    return new CorruptLogException(
        "corrupt write-ahead log: "
            + file.toAbsolutePath()
            + " at byte offset "
            + offset
            + " (last good index "
            + lastGoodIndex
            + "): "
            + problem
            + "; Synod refuses to start rather than serve wrong data");
  }
}
