package dev.synod.client;

import dev.synod.api.v1.Stat;
import java.util.List;

/**
 * Child names (not paths), sorted, and the parent's stat. {@code nextCursor} is non-empty when more
 * names follow (only for {@link SynodClient#getChildrenPage}; {@link SynodClient#getChildren}
 * fetches every page). {@code zxid} is the zxid of the server state the (first) page was read
 * at: a child created or deleted after it is not reflected in that page.
 */
public record ChildrenPage(List<String> children, Stat stat, String nextCursor, long zxid) {
  /** Without the read's zxid (0). */
  public ChildrenPage(List<String> children, Stat stat, String nextCursor) {
    this(children, stat, nextCursor, 0);
  }
}
