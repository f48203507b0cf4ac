package dev.synod.consensus;

import java.util.Map;
import java.util.TreeMap;

/**
 * The memberships this replica knows decided, by the slot that decided them: the one a snapshot
 * carried (at its slot) and every one decided in the log since. A membership decided at slot i
 * governs slots i+1 onwards; the latest governs everything after the commit index, which is what
 * elections, heartbeats and read confirmations count.
 */
final class Configs {
  private final TreeMap<Long, Membership> bySlot = new TreeMap<>();

  Configs(long baseSlot, Membership base) {
    bySlot.put(baseSlot, base);
  }

  /** The membership decided last (it governs every slot after the commit index). */
  Membership latest() {
    return bySlot.lastEntry().getValue();
  }

  /** The slot that decided {@link #latest()}. */
  long latestSlot() {
    return bySlot.lastKey();
  }

  /** The membership that governs {@code slot}: the one decided last before it. */
  Membership governing(long slot) {
    Map.Entry<Long, Membership> e = bySlot.lowerEntry(slot);
    return e != null ? e.getValue() : bySlot.firstEntry().getValue();
  }

  /** A slot is decided: if it holds a membership, that one governs from the next slot on. */
  void decided(Entry e) {
    if (Membership.isConfigValue(e.value()) && e.slot() > bySlot.lastKey()) {
      bySlot.put(e.slot(), Membership.decode(e.value()));
    }
  }

  /** A snapshot through {@code slot} was installed: it carries the membership at that slot. */
  void installed(long slot, Membership m) {
    bySlot.clear();
    bySlot.put(slot, m);
  }

  /** Slots at or below {@code slot} are compacted: only the membership governing after it is kept. */
  void compact(long slot) {
    Map.Entry<Long, Membership> floor = bySlot.floorEntry(slot);
    if (floor != null) {
      bySlot.headMap(floor.getKey(), false).clear();
    }
  }
}
