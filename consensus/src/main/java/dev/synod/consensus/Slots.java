package dev.synod.consensus;

/** Slot arithmetic that saturates instead of overflowing (slot numbers can come from peers). */
final class Slots {
  private Slots() {}

  static long add(long slot, long delta) {
    long sum = slot + delta;
    return ((slot ^ sum) & (delta ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }
}
