package dev.synod.bench;

import java.util.Locale;

/** What each closed-loop client does, once per operation. */
public enum Workload {
  /** Set the client's own key to a new value. */
  WRITE,
  /** Read a random key of the key space. */
  READ,
  /** Read a random key of the key space linearizably (see {@link Session#getLinearizable}). */
  LREAD,
  /** 90% reads of a random key, 10% writes of the client's own key. */
  MIXED,
  /** Create an ephemeral-sequential node (etcd: a key under the client's lease), then delete it. */
  EPHEMERAL,
  /** One writer, K watchers of the same key: time from each write to every watcher's event. */
  WATCH,
  /** Every client acquires and releases the same lock. */
  LOCK;

  /** The lower-case name used on the command line and in results. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a lower- or upper-case name. */
  public static Workload parse(String s) {
    for (Workload w : values()) {
      if (w.name().equalsIgnoreCase(s)) {
        return w;
      }
    }
    throw new IllegalArgumentException("unknown workload '" + s
        + "' (write, read, lread, mixed, ephemeral, watch, lock)");
  }
}
