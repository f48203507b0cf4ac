package dev.synod.server.observe;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Warnings that a client (or a peer) can cause at any rate: at most {@link #LINES_PER_WINDOW}
 * lines per {@link #WINDOW_MS} for each kind, so a client sending garbage cannot flood the log.
 * Lines held back are counted and the next line that passes says how many were suppressed.
 * Thread-safe; reads the monotonic clock (never used by deterministic code).
 */
public final class RateLimitedLog {
  /** Lines one kind may write per window. */
  public static final int LINES_PER_WINDOW = 5;
  /** The window, in milliseconds. */
  public static final long WINDOW_MS = 60_000;

  private final Logger log;
  private final long windowNanos;
  private final int linesPerWindow;
  private long windowStartNanos;
  private boolean started;
  private int written;
  private long suppressed;

  public RateLimitedLog(Logger log) {
    this(log, LINES_PER_WINDOW, WINDOW_MS);
  }

  RateLimitedLog(Logger log, int linesPerWindow, long windowMs) {
    this.log = log;
    this.linesPerWindow = linesPerWindow;
    this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMs);
  }

  /** Writes {@code message} at WARN unless this kind has used up its window. */
  public void warn(String message) {
    long held;
    synchronized (this) {
      long now = System.nanoTime();
      if (!started || now - windowStartNanos >= windowNanos) {
        started = true;
        windowStartNanos = now;
        written = 0;
      }
      if (written >= linesPerWindow) {
        suppressed++;
        return;
      }
      written++;
      held = suppressed;
      suppressed = 0;
    }
    if (held > 0) {
      log.warn("{} ({} similar warnings suppressed)", message, held);
    } else {
      log.warn(message);
    }
  }

  /** Lines held back since the last one written (for tests). */
  synchronized long suppressed() {
    return suppressed;
  }
}
