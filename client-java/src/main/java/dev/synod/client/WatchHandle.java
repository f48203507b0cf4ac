package dev.synod.client;

/** A registered persistent watch. {@link #close()} removes it. */
public interface WatchHandle extends AutoCloseable {
  String path();

  boolean recursive();

  /** The zxid of the last event delivered (or of the registration). */
  long lastZxid();

  @Override
  void close();
}
