package dev.synod.server.pipeline;

import dev.synod.server.state.Saturating;
import java.util.function.LongSupplier;

/**
 * The cluster's clock as this server reads it: what the leader stamps into Txns ({@link
 * #stampMs}) and what its housekeeper measures TTLs against ({@link #nowMs}). It advances with
 * elapsed (monotonic) time, so a jump of any member's wall clock, forward or back, neither
 * deletes TTL nodes early nor stops them from expiring, and it never goes backwards.
 *
 * <h2>The rule</h2>
 * Inputs: the injected {@link Clock} (wall ms, monotonic ns) and D, the decided time: the effective
 * time of the last Txn this server applied. Apply makes D the same on every replica and never
 * lets it decrease (a Txn takes effect at max(D, its stamp)); a snapshot carries it.
 * <ol>
 *   <li><b>Estimate.</b> An anchor (A ms at monotonic instant a) gives the cluster time now:
 *       E = A + (mono - a), in whole ms, saturating. E moves only with this server's monotonic
 *       clock, so no wall-clock jump moves it.
 *   <li><b>Anchoring.</b> The first reading once something is decided anchors at (D, now); a
 *       new cluster's first stamp, with nothing decided yet, anchors at (wall, now). After that,
 *       when D is ahead of E and above every time this server stamped, the anchor moves to
 *       (D, now): a time another leader decided is adopted. The anchor only ever moves forward,
 *       so E never decreases. A time this server stamped never moves it: a stamp may run up to
 *       {@link #WALL_LEAD_MS_MAX} ahead of E (below), and adopting it would let that lead
 *       compound with every write. Every member reads its clock each housekeeping round, leader
 *       or not, so the anchor follows decisions as they are applied (within a round) and a
 *       follower that becomes leader counts the time since it last saw one.
 *   <li><b>Stamp</b> = max(E, D, previous stamp, min(wall, E + WALL_LEAD_MS_MAX)). While the wall
 *       clock agrees with elapsed time, stamps follow it (to within WALL_LEAD_MS_MAX); a forward
 *       jump moves stamps at most WALL_LEAD_MS_MAX ahead of E; a backward jump (wall below E) is
 *       ignored and stamps go on advancing with E. Stamps never decrease.
 *   <li><b>TTL expiry.</b> The housekeeper proposes deleting a TTL node once E &gt;= mtime + ttl;
 *       that ExpireTtlTxn is stamped at least E (later, so higher), and apply re-checks against
 *       its effective time. The decision is in the log, the measure is elapsed time.
 * </ol>
 *
 * <h2>What follows</h2>
 * <ul>
 *   <li>Decided time never decreases; no wall-clock jump on any member moves it by more than
 *       WALL_LEAD_MS_MAX (a follower's wall clock is never read; a leader's only within the band).
 *   <li>A TTL node lives ttl_ms of elapsed time as measured by the leaders' monotonic clocks, give
 *       or take WALL_LEAD_MS_MAX per change of leader (one leader's stamps may run that far ahead
 *       of its E and the next adopts them), plus the time between a Txn's decision and a new
 *       leader's applying it, which is not counted (expiry errs late, by about an election).
 *   <li>Time while no server ran (a whole-cluster outage) does not count either: after a restart
 *       the anchor is the decided time, whatever the wall clock says. The cluster cannot tell an
 *       outage from a forward jump, and errs towards keeping nodes, as sessions do (they get a
 *       full timeout after a restart). Times stamped after such an outage lag the wall clock by it.
 * </ul>
 *
 * <p>Thread-safe: the consensus thread stamps, the housekeeping thread reads.
 */
public final class ClusterTime {
  /**
   * How far ahead of elapsed time (E) the leader's wall clock may pull a stamp: enough to follow a
   * wall clock that NTP keeps near elapsed time, small enough that a jump barely moves time.
   */
  public static final long WALL_LEAD_MS_MAX = 1_000;

  private final Clock clock;
  private final LongSupplier decidedMs;
  private boolean anchored;
  private long anchorMs;
  private long anchorNanos;
  private long lastStampMs = Long.MIN_VALUE;

  /**
   * @param decidedMs the decided time of the last Txn this server applied (0 before any); the
   *     state machine's {@code lastTimeMs}
   */
  public ClusterTime(Clock clock, LongSupplier decidedMs) {
    this.clock = clock;
    this.decidedMs = decidedMs;
  }

  /**
   * The cluster time now (E): never decreasing, advancing with elapsed time; 0 while nothing has
   * been decided and nothing stamped (there is no time yet, and no TTL node to measure).
   */
  public synchronized long nowMs() {
    return now(false);
  }

  private long now(boolean stamping) {
    long nanos = clock.monoNanos();
    long decided = decidedMs.getAsLong();
    if (!anchored) {
      if (decided == 0 && !stamping) {
        return 0; // only a leader's first stamp may take the wall clock as the cluster's start
      }
      anchor(decided != 0 ? decided : clock.wallMs(), nanos);
    }
    long estimate = estimate(nanos);
    if (decided > estimate && decided > lastStampMs) {
      anchor(decided, nanos);
      estimate = decided;
    }
    return estimate;
  }

  /** The time to stamp into the next Txn this server proposes as leader. */
  public synchronized long stampMs() {
    long now = now(true);
    long wallWithinBand = Math.min(clock.wallMs(), Saturating.add(now, WALL_LEAD_MS_MAX));
    long stamp = Math.max(Math.max(now, wallWithinBand),
        Math.max(decidedMs.getAsLong(), lastStampMs));
    lastStampMs = stamp;
    return stamp;
  }

  private void anchor(long ms, long nanos) {
    anchored = true;
    anchorMs = ms;
    anchorNanos = nanos;
  }

  private long estimate(long nanos) {
    // Monotonic readings never go back; if a broken clock did, time would stand still, not reverse.
    long elapsedMs = Math.max(0, (nanos - anchorNanos) / 1_000_000);
    return Saturating.add(anchorMs, elapsedMs);
  }
}
