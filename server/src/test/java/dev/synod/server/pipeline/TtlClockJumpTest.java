package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.SyncRequest;
import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TTL expiry on a real node (a cluster of one: the same driver, housekeeper and apply as a
 * cluster's leader) whose wall clock jumps: a TTL runs for its time elapsed, never for the jump.
 */
class TtlClockJumpTest {
  private static final long HOUR_MS = TimeUnit.HOURS.toMillis(1);

  @TempDir Path dir;

  /** Real monotonic time; wall time is real time plus an offset the test moves. */
  private static final class JumpingWallClock implements Clock {
    final AtomicLong offsetMs = new AtomicLong();

    @Override
    public long wallMs() {
      return System.currentTimeMillis() + offsetMs.get();
    }

    @Override
    public long monoNanos() {
      return System.nanoTime();
    }
  }

  private static Stat createTtl(SynodGrpc.SynodBlockingStub stub, String path, long ttlMs) {
    return stub.create(CreateRequest.newBuilder().setPath(path).setKind(NodeKind.TTL).setTtlMs(ttlMs)
        .build()).getStat();
  }

  private static boolean exists(SynodGrpc.SynodBlockingStub stub, String path) {
    return stub.exists(ExistsRequest.newBuilder().setPath(path).build()).getExists();
  }

  private static void awaitGone(SynodGrpc.SynodBlockingStub stub, String path) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(10), path + " expired", () -> !exists(stub, path));
  }

  @Test
  void aForwardJumpOfTheWallClockNeitherExpiresTtlNodesEarlyNorMakesTimeLeap() throws Exception {
    JumpingWallClock clock = new JumpingWallClock();
    try (TestServer server = TestServer.withClock(clock, dir, "housekeeping-interval-ms", "10")) {
      SynodGrpc.SynodBlockingStub stub = server.blocking();
      Stat longLived = createTtl(stub, "/long", 60_000);
      clock.offsetMs.set(HOUR_MS);
      Stat shortLived = createTtl(stub, "/short", 200);
      assertTrue(shortLived.getCtimeMs() - longLived.getCtimeMs() < 10_000,
          "decided time leapt with the wall clock: " + longLived.getCtimeMs() + " -> " + shortLived.getCtimeMs());
      // Housekeeping looks at /long in every round that could expire /short; once /short is gone
      // and every write queued before is applied, /long would be gone too if the jump counted.
      awaitGone(stub, "/short");
      stub.sync(SyncRequest.getDefaultInstance());
      assertTrue(exists(stub, "/long"), "an hour's jump of the wall clock is not an hour elapsed");
      assertTrue(server.fatalErrors.isEmpty(), server.fatalErrors.toString());
    }
  }

  @Test
  void aBackwardJumpOfTheWallClockNeitherTurnsTimeBackNorStopsTtlExpiry() throws Exception {
    JumpingWallClock clock = new JumpingWallClock();
    try (TestServer server = TestServer.withClock(clock, dir, "housekeeping-interval-ms", "10")) {
      SynodGrpc.SynodBlockingStub stub = server.blocking();
      Stat before = createTtl(stub, "/before", 60_000);
      clock.offsetMs.set(-HOUR_MS);
      Stat shortLived = createTtl(stub, "/short", 200);
      assertTrue(shortLived.getCtimeMs() >= before.getCtimeMs(), "decided time went backwards");
      awaitGone(stub, "/short"); // its 200 ms elapse although the wall clock reads an hour earlier
      Stat after = createTtl(stub, "/after", 60_000);
      assertTrue(after.getCtimeMs() >= shortLived.getCtimeMs(), "decided time went backwards");
      assertTrue(exists(stub, "/before"));
      assertTrue(server.fatalErrors.isEmpty(), server.fatalErrors.toString());
    }
  }
}
