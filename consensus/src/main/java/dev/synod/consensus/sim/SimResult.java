package dev.synod.consensus.sim;

/**
 * How one seeded run ended. A failed run names the event at which an invariant broke; running the
 * same seed with the same config replays it exactly (same trace hash).
 *
 * @param failedAtEvent the event number of the violation, or -1 if passed
 * @param traceHash a hash of every event, to show two runs were identical
 */
public record SimResult(
    long seed,
    SimConfig config,
    boolean passed,
    long failedAtEvent,
    String violation,
    long events,
    long ticks,
    long traceHash,
    SimStats stats) {
  public String describe() {
    String head = "seed " + seed + " (" + config.replicas() + " replicas, " + config.events() + " events)";
    if (passed) {
      return head + " passed: " + stats;
    }
    return head + " FAILED at event " + failedAtEvent + ": " + violation;
  }
}
