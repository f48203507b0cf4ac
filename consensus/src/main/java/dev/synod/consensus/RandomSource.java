package dev.synod.consensus;

import java.util.Random;

/**
 * The only source of randomness the module uses (election timeouts, probe nonces). Injected, so
 * a run is reproducible from its seed.
 */
public interface RandomSource {
  /** A value in [0, bound); bound must be positive. */
  int nextInt(int bound);

  /** A deterministic source: the same seed gives the same sequence. */
  static RandomSource seeded(long seed) {
    Random random = new Random(seed);
    return random::nextInt;
  }

  /** A 62-bit non-negative value built from three draws (for nonces and derived seeds). */
  default long nextLong() {
    return ((long) nextInt(1 << 30) << 32) ^ ((long) nextInt(1 << 30) << 2) ^ nextInt(4);
  }
}
