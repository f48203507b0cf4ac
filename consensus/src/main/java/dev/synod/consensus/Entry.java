package dev.synod.consensus;

import java.util.Arrays;

/**
 * A value accepted for a slot in a ballot. The value is opaque; an empty value is a no-op (the
 * leader fills gaps with them). Slots start at 1. The array is not copied: do not mutate it.
 */
public record Entry(long slot, Ballot ballot, byte[] value) {
  public Entry {
    if (slot < 1) {
      throw new IllegalArgumentException("slot must be >= 1, got " + slot);
    }
    if (ballot == null) {
      throw new IllegalArgumentException("ballot must not be null");
    }
    if (value == null) {
      throw new IllegalArgumentException("value must not be null (use an empty array for a no-op)");
    }
  }

  public boolean isNoop() {
    return value.length == 0;
  }

  public boolean sameValue(Entry other) {
    return Arrays.equals(value, other.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e && slot == e.slot && ballot.equals(e.ballot)
        && Arrays.equals(value, e.value);
  }

  @Override
  public int hashCode() {
    return (Long.hashCode(slot) * 31 + ballot.hashCode()) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < Math.min(value.length, 16); i++) {
      hex.append(Character.forDigit((value[i] >> 4) & 0xf, 16)).append(Character.forDigit(value[i] & 0xf, 16));
    }
    return "Entry[slot=" + slot + ", ballot=" + ballot + ", value=" + value.length + "B:" + hex
        + (value.length > 16 ? "..." : "") + "]";
  }
}
