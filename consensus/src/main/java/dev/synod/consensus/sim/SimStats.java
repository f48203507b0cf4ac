package dev.synod.consensus.sim;

/** What a run exercised, so a test can tell a hostile run from a vacuous one. */
public record SimStats(
    long decidedSlots,
    long valuesAcknowledged,
    long elections,
    long crashes,
    long wipes,
    long partitions,
    long compactions,
    long snapshotsInstalled,
    long readsOk,
    long readsRefused,
    long messagesSent,
    long messagesDropped,
    long reconfigs) {
  /** The element-wise sum, to summarise many runs. */
  public SimStats plus(SimStats o) {
    return new SimStats(decidedSlots + o.decidedSlots, valuesAcknowledged + o.valuesAcknowledged,
        elections + o.elections, crashes + o.crashes, wipes + o.wipes, partitions + o.partitions,
        compactions + o.compactions, snapshotsInstalled + o.snapshotsInstalled, readsOk + o.readsOk,
        readsRefused + o.readsRefused, messagesSent + o.messagesSent,
        messagesDropped + o.messagesDropped, reconfigs + o.reconfigs);
  }

  public static SimStats zero() {
    return new SimStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}
