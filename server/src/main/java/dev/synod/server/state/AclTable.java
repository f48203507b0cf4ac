package dev.synod.server.state;

import dev.synod.api.v1.Acl;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct ACLs of the tree, each held once: nodes with equal ACLs share one list (most trees
 * have a handful of ACLs and millions of nodes; each Txn and each snapshot record brings its own
 * copy). Counts the nodes that use each list, so an ACL no node uses any more is forgotten and a
 * client cannot grow this table beyond the tree.
 *
 * <p>Sharing changes no behaviour: ACLs are compared by value everywhere. Not thread-safe; owned
 * by the {@link DataTree}.
 */
final class AclTable {
  private static final class Entry {
    final List<Acl> acl;
    long users;

    Entry(List<Acl> acl) {
      this.acl = acl;
    }
  }

  private final Map<List<Acl>, Entry> byValue = new HashMap<>();

  /** The shared list equal to {@code acl}, or an immutable copy to share from now on. */
  List<Acl> intern(List<Acl> acl) {
    Entry e = byValue.get(acl);
    return e != null ? e.acl : List.copyOf(acl);
  }

  /** One more node in the tree uses {@code acl}. */
  void retain(List<Acl> acl) {
    byValue.computeIfAbsent(acl, Entry::new).users++;
  }

  /** One node fewer in the tree uses {@code acl}. */
  void release(List<Acl> acl) {
    Entry e = byValue.get(acl);
    if (e == null) {
      throw new IllegalStateException("release of an ACL no node holds: " + acl);
    }
    if (--e.users == 0) {
      byValue.remove(acl);
    }
  }

  /** How many distinct ACLs the tree holds. */
  int size() {
    return byValue.size();
  }

  void clear() {
    byValue.clear();
  }
}
