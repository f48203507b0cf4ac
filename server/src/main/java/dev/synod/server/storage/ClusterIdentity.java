package dev.synod.server.storage;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Properties;

/**
 * Which cluster a data directory belongs to, kept in its {@code CLUSTER} file. Written when the
 * directory is created (from {@code --initial-cluster-state}) and again, once, when the member
 * learns its cluster's id.
 *
 * @param clusterId the cluster's id; 0 while not known yet (a new cluster decides it through its
 *     log, a joining member learns it from the leader that admits it)
 * @param founding the directory was created for a new cluster ({@code --initial-cluster-state
 *     new}) and the member does not know the cluster's id yet: until then it may bootstrap the
 *     cluster with the other founders. Cleared when the id is learned
 */
public record ClusterIdentity(long clusterId, boolean founding) {
  /** A directory created to found a new cluster. */
  public static ClusterIdentity founder() {
    return new ClusterIdentity(0, true);
  }

  /** A directory created to join a cluster that exists (its id is learned from its leader). */
  public static ClusterIdentity joiner() {
    return new ClusterIdentity(0, false);
  }

  public boolean known() {
    return clusterId != 0;
  }

  /** The id learned; a member that knows its cluster's id founds nothing any more. */
  public ClusterIdentity withId(long id) {
    if (id == 0) {
      throw new IllegalArgumentException("a cluster id is never 0");
    }
    return new ClusterIdentity(id, false);
  }

  /** The id as operators see it: 16 hex digits, or "unknown". */
  public String idText() {
    return text(clusterId);
  }

  public static String text(long id) {
    return id == 0 ? "unknown" : HexFormat.of().toHexDigits(id);
  }

  String format() {
    return "# Which Synod cluster this data directory belongs to. Do not edit or copy it.\n"
        + "cluster-id=" + idText() + "\n"
        + "founding=" + founding + "\n";
  }

  /** Parses {@link #format()}'s output; throws IllegalArgumentException naming what is wrong. */
  static ClusterIdentity parse(Properties p) {
    String id = p.getProperty("cluster-id", "").trim().toLowerCase(Locale.ROOT);
    String founding = p.getProperty("founding", "").trim();
    if (!founding.equals("true") && !founding.equals("false")) {
      throw new IllegalArgumentException("founding must be true or false, got '" + founding + "'");
    }
    if (id.equals("unknown")) {
      return new ClusterIdentity(0, Boolean.parseBoolean(founding));
    }
    if (id.length() != 16) {
      throw new IllegalArgumentException("cluster-id must be 16 hex digits or 'unknown', got '" + id + "'");
    }
    try {
      long parsed = HexFormat.fromHexDigitsToLong(id);
      if (parsed == 0) {
        throw new IllegalArgumentException("cluster-id must not be 0");
      }
      return new ClusterIdentity(parsed, false);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cluster-id must be 16 hex digits, got '" + id + "'");
    }
  }
}
