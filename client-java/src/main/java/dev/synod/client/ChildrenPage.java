package dev.synod.client;

import dev.synod.api.v1.Stat;
import java.util.List;

/**
 * Child names (not paths), sorted, and the parent's stat. {@code nextCursor} is non-empty when more
 * names follow (only for {@link SynodClient#getChildrenPage}; {@link SynodClient#getChildren}
 * fetches every page).
 */
public record ChildrenPage(List<String> children, Stat stat, String nextCursor) {}
