package dev.synod.server.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The transaction log is damaged in a way a crash cannot explain (a bad record with good records
 * after it, a bad record in a finished segment, or missing zxids). The server must not start: it
 * would otherwise serve a state that silently lacks committed transactions.
 */
public final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  public CorruptLogException(String message) {
    super(message);
  }

  /** A damaged record at {@code offset} of {@code file}. */
  static CorruptLogException at(Path file, long offset, long lastGoodZxid, String problem) {
    return new CorruptLogException(
        "corrupt transaction log: "
            + file.toAbsolutePath()
            + " at byte offset "
            + offset
            + " (last good zxid "
            + lastGoodZxid
            + "): "
            + problem
            + "; Synod refuses to start rather than serve wrong data");
  }
}
