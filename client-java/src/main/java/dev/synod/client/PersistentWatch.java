package dev.synod.client;

import dev.synod.api.v1.WatchKind;
import java.util.function.Consumer;

/** A persistent watch as the user holds it: closing it removes it (on the loop). */
final class PersistentWatch implements WatchHandle {
  final WatchKey key;
  final boolean includeData;
  final WatchListener listener;
  private final Consumer<PersistentWatch> remover;
  /** The zxid of the last event delivered (or of the registration): re-registration resumes after it. */
  volatile long lastZxid;
  /** The server holds it for the current session. */
  volatile boolean registered;

  PersistentWatch(WatchKey key, boolean includeData, WatchListener listener, Consumer<PersistentWatch> remover) {
    this.key = key;
    this.includeData = includeData;
    this.listener = listener;
    this.remover = remover;
  }

  @Override
  public String path() {
    return key.path();
  }

  @Override
  public boolean recursive() {
    return key.kind() == WatchKind.WATCH_PERSISTENT_RECURSIVE;
  }

  @Override
  public long lastZxid() {
    return lastZxid;
  }

  @Override
  public void close() {
    remover.accept(this);
  }
}
