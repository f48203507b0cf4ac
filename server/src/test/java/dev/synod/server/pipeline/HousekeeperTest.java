package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Response;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The housekeeper's TTL expiry runs on cluster time, whatever the wall clock does. */
class HousekeeperTest {
  private static final long MINUTE_MS = TimeUnit.MINUTES.toMillis(1);

  private final ManualClock clock = new ManualClock();
  private final StateMachine state = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
  private final ClusterTime clusterTime = new ClusterTime(clock, state::lastTimeMs);
  private final RecordingPipeline pipeline = new RecordingPipeline();
  private final Housekeeper housekeeper =
      new Housekeeper(new SessionTracker(clock), state, pipeline, clusterTime, 10);

  /** Records what the housekeeper submits; applies nothing. */
  private static final class RecordingPipeline implements WritePipeline {
    final List<Txn> submitted = new ArrayList<>();
    boolean leader;

    @Override
    public void submit(Txn.Builder txn, Applied onApplied) {
      submitted.add(txn.build());
    }

    @Override
    public void barrier(BarrierDone done) {
      done.done(0, null);
    }

    @Override
    public boolean isLeader() {
      return leader;
    }

    @Override
    public LeaderContact leaderContact() {
      return new LeaderContact(leader, 0);
    }
  }

  /** Applies a create of a TTL node, stamped as a leader would, at zxid 1. */
  private void createTtlNode(String path, long ttlMs) {
    Txn txn = Txn.newBuilder().setZxid(state.lastZxid() + 1).setTimeMs(clusterTime.stampMs())
        .setCreate(CreateRequest.newBuilder().setPath(path).setKind(NodeKind.TTL).setTtlMs(ttlMs))
        .build();
    List<Response> out = new ArrayList<>();
    state.apply(txn, out::add);
    assertEquals(false, out.get(0).hasError(), out.toString());
  }

  private List<String> expiriesProposed() {
    return pipeline.submitted.stream().filter(Txn::hasExpireTtl)
        .map(t -> t.getExpireTtl().getPath()).toList();
  }

  @Test
  void aWallClockJumpOnTheLeaderExpiresNothingAndElapsedTimeDoes() {
    pipeline.leader = true;
    createTtlNode("/t", MINUTE_MS);
    clock.setWallMs(clock.wallMs() + TimeUnit.HOURS.toMillis(1));
    housekeeper.round();
    assertEquals(List.of(), expiriesProposed(), "an hour on the wall clock is no time elapsed");
    clock.advanceMs(MINUTE_MS - 1);
    housekeeper.round();
    assertEquals(List.of(), expiriesProposed());
    clock.advanceMs(1);
    housekeeper.round();
    assertEquals(List.of("/t"), expiriesProposed());
  }

  @Test
  void aFollowerBecomingLeaderCountsTheTimeSinceItLastSawADecision() {
    pipeline.leader = true;
    createTtlNode("/t", MINUTE_MS);
    ClusterTime followersClock = new ClusterTime(clock, state::lastTimeMs);
    RecordingPipeline followersPipeline = new RecordingPipeline();
    Housekeeper follower =
        new Housekeeper(new SessionTracker(clock), state, followersPipeline, followersClock, 10);
    follower.round(); // not leading: proposes nothing, but reads the clock
    assertEquals(List.of(), followersPipeline.submitted);
    clock.advanceMs(2 * MINUTE_MS); // the cluster idles; then this follower takes over
    followersPipeline.leader = true;
    follower.round();
    assertEquals(1, followersPipeline.submitted.stream().filter(Txn::hasExpireTtl).count());
  }
}
