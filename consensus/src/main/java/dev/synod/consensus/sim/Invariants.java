package dev.synod.consensus.sim;

import dev.synod.consensus.Entry;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Replica;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * The properties checked after every event, over all replicas and all time:
 * <ul>
 *   <li>agreement: at most one value is ever decided per slot (the first one seen is kept);
 *   <li>every replica applies a gap-free sequence whose running hash matches every other
 *       replica's at the same slot (so applied states are identical for the same prefix);
 *   <li>a client value is decided in at most one slot;
 *   <li>a durable commit marker only covers slots whose durable entry is the decided value;
 *   <li>a read answered ok returns an index at least the slot of every write acknowledged
 *       (applied anywhere) before the read was requested.
 * </ul>
 * Client values are 8-byte ids (1, 2, ...); an empty value is a no-op.
 */
final class Invariants {
  static final long HASH_START = 0x5eed_cafe_f00dL;

  /** Decided value per slot (index slot - 1). */
  private byte[][] decided = new byte[1024][];
  /** Running hash after applying each slot (index slot - 1), 0 if not seen yet. */
  private long[] hashAfter = new long[1024];
  /** Slot per client value id (index id), 0 if not decided. */
  private long[] slotOfValue = new long[1024];
  private long decidedSlots;
  private long maxAckedSlot;
  private long acked;
  private final TreeMap<Long, Long> readRequiredIndex = new TreeMap<>();

  static byte[] clientValue(long id) {
    return ByteBuffer.allocate(Long.BYTES).putLong(id).array();
  }

  /** A replica applied {@code e} after {@code appliedIndex}; returns its new running hash. */
  long applied(int node, long appliedIndex, long appliedHash, Entry e) {
    if (e.slot() != appliedIndex + 1) {
      throw new InvariantViolation("node " + node + " was handed slot " + e.slot() + " after applying "
          + appliedIndex + ": committed entries must be contiguous");
    }
    checkDecided(node, "an applied entry", e);
    long hash = chain(appliedHash, e);
    int i = index(e.slot());
    hashAfter = grow(hashAfter, i);
    if (hashAfter[i] == 0) {
      hashAfter[i] = hash;
    } else if (hashAfter[i] != hash) {
      throw new InvariantViolation("node " + node + " applied state after slot " + e.slot()
          + " differs from another replica's");
    }
    if (!e.isNoop() && !Membership.isConfigValue(e.value())) {
      long id = valueId(node, e);
      int v = (int) id;
      slotOfValue = grow(slotOfValue, v);
      if (slotOfValue[v] == 0) {
        slotOfValue[v] = e.slot();
        acked++;
        maxAckedSlot = Math.max(maxAckedSlot, e.slot());
      } else if (slotOfValue[v] != e.slot()) {
        throw new InvariantViolation("client value " + id + " decided in two slots: "
            + slotOfValue[v] + " and " + e.slot());
      }
    }
    return hash;
  }

  /** Agreement: the first value seen decided for a slot is the only one. */
  void checkDecided(int node, String what, Entry e) {
    int i = index(e.slot());
    if (i >= decided.length) {
      decided = Arrays.copyOf(decided, Math.max(i + 1, decided.length * 2));
    }
    if (decided[i] == null) {
      decided[i] = e.value();
      decidedSlots++;
    } else if (!Arrays.equals(decided[i], e.value())) {
      throw new InvariantViolation("agreement violated at slot " + e.slot() + ": node " + node + " has "
          + what + " " + e + " but another value was decided there");
    }
  }

  /** A snapshot installed at {@code slot} must be the state every replica had after that slot. */
  void snapshotInstalled(int node, long slot, long hash) {
    int i = index(slot);
    if (i >= hashAfter.length || hashAfter[i] == 0) {
      throw new InvariantViolation("node " + node + " installed a snapshot at slot " + slot
          + " that no replica has applied");
    }
    if (hashAfter[i] != hash) {
      throw new InvariantViolation("node " + node + " installed a snapshot at slot " + slot
          + " that differs from the applied state");
    }
  }

  /** The durable commit marker moved from {@code before}: every slot it now covers holds the decided value. */
  void durableCommit(int node, SimDisk disk, long before) {
    for (long slot = Math.max(before, disk.snapshotSlot()) + 1; slot <= disk.commitIndex(); slot++) {
      Entry e = disk.entry(slot);
      if (e == null) {
        throw new InvariantViolation("node " + node + " durably marked slot " + slot
            + " decided without a durable entry for it");
      }
      int i = index(slot);
      if (i >= decided.length || decided[i] == null) {
        throw new InvariantViolation("node " + node + " durably marked slot " + slot
            + " decided before any replica learned it");
      }
      checkDecided(node, "a durably committed entry", e);
    }
  }

  void readRequested(long readId) {
    readRequiredIndex.put(readId, maxAckedSlot);
  }

  /** Returns true if the read was answered ok. */
  boolean readAnswered(int node, Replica.ReadState r) {
    Long required = readRequiredIndex.remove(r.readId());
    if (required == null) {
      throw new InvariantViolation("node " + node + " answered read " + r.readId() + " it was never asked (or twice)");
    }
    if (r.ok() && r.index() < required) {
      throw new InvariantViolation("linearizability: read " + r.readId() + " at node " + node
          + " got index " + r.index() + " but slot " + required
          + " was acknowledged before the read was requested");
    }
    return r.ok();
  }

  long slotOf(long valueId) {
    return valueId < slotOfValue.length ? slotOfValue[(int) valueId] : 0;
  }

  long maxAckedSlot() {
    return maxAckedSlot;
  }

  long decidedSlots() {
    return decidedSlots;
  }

  long acked() {
    return acked;
  }

  static long chain(long hash, Entry e) {
    return mix(hash ^ mix(e.slot() * 0x9E3779B97F4A7C15L ^ Arrays.hashCode(e.value())));
  }

  /** SplitMix64's finalizer: a cheap, well-spread 64-bit mix. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static long valueId(int node, Entry e) {
    if (e.value().length != Long.BYTES) {
      throw new InvariantViolation("node " + node + " applied a value no client proposed: " + e);
    }
    long id = ByteBuffer.wrap(e.value()).getLong();
    if (id < 1 || id > Integer.MAX_VALUE) {
      throw new InvariantViolation("node " + node + " applied a value no client proposed: " + e);
    }
    return id;
  }

  private static int index(long slot) {
    if (slot < 1 || slot > Integer.MAX_VALUE) {
      throw new InvariantViolation("slot out of range: " + slot);
    }
    return (int) (slot - 1);
  }

  private static long[] grow(long[] a, int i) {
    return i < a.length ? a : Arrays.copyOf(a, Math.max(i + 1, a.length * 2));
  }
}
