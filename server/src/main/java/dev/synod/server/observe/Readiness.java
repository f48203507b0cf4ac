package dev.synod.server.observe;

import dev.synod.consensus.Replica;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.replication.ConsensusDriver;
import java.util.concurrent.TimeUnit;

/**
 * Whether this member is ready to serve: it knows a leader and is in contact with it (a leader:
 * with a majority), and it has applied what it knows is decided, within a bound. {@code /readyz}
 * and the gRPC health service answer from it. Any thread.
 */
public final class Readiness {
  /** Decided slots a ready member may have left to apply. */
  public static final long APPLIED_LAG_SLOTS_MAX = 1_000;
  /** The contact bound is never below this (short ticks in tests). */
  static final long CONTACT_AGE_MS_FLOOR = 1_000;

  /** The answer, and why (for /readyz's body and the log). */
  public record Verdict(boolean ready, String reason) {}

  private final ConsensusDriver driver;
  private final long contactAgeNanosMax;

  public Readiness(ConsensusDriver driver, ServerConfig config) {
    this.driver = driver;
    // Two election timeouts: a healthy member hears from its leader (or its majority) every few
    // ticks, and one election timeout without contact is when a new election starts.
    long electionTimeoutMs = config.tickMs() * config.electionTicksMax();
    this.contactAgeNanosMax = TimeUnit.MILLISECONDS.toNanos(Math.max(CONTACT_AGE_MS_FLOOR, 2 * electionTimeoutMs));
  }

  public Verdict check() {
    String stopped = driver.stopped();
    if (stopped != null) {
      return new Verdict(false, "replication stopped: " + stopped);
    }
    Replica.Status status = driver.replicaStatus();
    if (status == null) {
      return new Verdict(false, "starting");
    }
    if ("recovering".equals(status.role())) {
      return new Verdict(false, "recovering: not yet admitted as a voter by a leader");
    }
    // Leading as the loop sees it: a cluster of one counts as in contact with its majority from
    // the start, but it leads (and writes go through) only once it has elected itself.
    boolean leading = driver.isLeader();
    WritePipeline.LeaderContact contact = driver.leaderContact();
    if (!leading && status.leaderId() < 0) {
      return new Verdict(false, "no leader known");
    }
    if (contact.ageNanos() > contactAgeNanosMax) {
      String age = contact.ageNanos() == Long.MAX_VALUE ? "ever"
          : TimeUnit.NANOSECONDS.toMillis(contact.ageNanos()) + " ms";
      return new Verdict(false, leading
          ? "leader without contact with a majority for " + age
          : "no contact with the leader (server " + status.leaderId() + ") for " + age);
    }
    long lag = status.commitIndex() - driver.appliedSlot();
    if (lag > APPLIED_LAG_SLOTS_MAX) {
      return new Verdict(false, "applying: " + lag + " decided slots behind");
    }
    return new Verdict(true, leading ? "leader" : "following server " + status.leaderId());
  }
}
