package dev.synod.bench;

import java.util.Locale;

/** The systems the load generator can drive; {@link #label} is how results name them. */
public enum SystemKind {
  SYNOD("Synod"),
  ZOOKEEPER("ZooKeeper"),
  ETCD("etcd");

  private final String label;

  SystemKind(String label) {
    this.label = label;
  }

  /** The name shown in tables and plots. */
  public String label() {
    return label;
  }

  /** Accepts the enum name in any case, or the label. */
  public static SystemKind parse(String s) {
    for (SystemKind k : values()) {
      if (k.name().equalsIgnoreCase(s) || k.label.equalsIgnoreCase(s)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown system '" + s + "' (synod, zookeeper, etcd)");
  }

  @Override
  public String toString() {
    return label.toLowerCase(Locale.ROOT);
  }
}
