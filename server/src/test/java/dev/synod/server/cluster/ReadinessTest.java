package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import dev.synod.server.observe.Http;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /readyz and the gRPC health service follow whether a member has a leader and reaches a quorum:
 * ready in a healthy cluster, not ready once it loses its quorum, ready again when it is back.
 */
class ReadinessTest {
  @TempDir Path dir;

  @Test
  void readyzAndGrpcHealthFlipWhenTheClusterLosesAndRegainsItsQuorum() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3, "metrics-port", "0")) {
      int leader = cluster.awaitLeader();
      for (int id = 1; id <= 3; id++) {
        awaitReady(cluster.servers[id], true);
      }
      // Two of three gone: the survivor has no quorum (as leader it loses its majority contact,
      // as follower its leader).
      int survivor = cluster.aFollower(leader);
      for (int id = 1; id <= 3; id++) {
        if (id != survivor) {
          cluster.stop(id);
        }
      }
      TestServer alone = cluster.servers[survivor];
      awaitReady(alone, false);
      Http.Answer notReady = Http.get(alone.node.metricsPort(), "/readyz");
      assertEquals(503, notReady.code());
      assertTrue(notReady.body().startsWith("not ready: "), notReady.body());
      assertEquals(200, Http.get(alone.node.metricsPort(), "/healthz").code(), "the process is up");
      assertEquals(0, Http.sample(Http.get(alone.node.metricsPort(), "/metrics").body(), "synod_ready"));

      // One member back: a majority again, a leader, ready.
      int back = survivor == 1 ? 2 : 1;
      cluster.start(back);
      awaitReady(alone, true);
      awaitReady(cluster.servers[back], true);
    }
  }

  @Test
  void aMemberThatNeverHadALeaderIsNotServing() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3, 1, "metrics-port", "0")) {
      TestServer lonely = cluster.servers[1];
      assertEquals(ServingStatus.NOT_SERVING, grpcHealth(lonely, ""));
      Http.Answer answer = Http.get(lonely.node.metricsPort(), "/readyz");
      assertEquals(503, answer.code(), answer.body());
      // Stays so: no leader can be elected with one member of three.
      Eventually.holdsFor(Duration.ofMillis(300), "NOT_SERVING with no leader",
          () -> grpcHealth(lonely, "synod.v1.Synod") == ServingStatus.NOT_SERVING);
      assertEquals(ServingStatus.NOT_SERVING, grpcHealth(lonely, "synod.v1.Synod"));
    }
  }

  /** Waits until /readyz and the gRPC health service (both names) agree on {@code ready}. */
  private static void awaitReady(TestServer server, boolean ready) throws Exception {
    ServingStatus wanted = ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    await(server, s -> {
      try {
        return Http.get(s.node.metricsPort(), "/readyz").code() == (ready ? 200 : 503)
            && grpcHealth(s, "") == wanted && grpcHealth(s, "synod.v1.Synod") == wanted;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, "ready=" + ready);
  }

  private static ServingStatus grpcHealth(TestServer server, String service) {
    return HealthGrpc.newBlockingStub(server.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  private static void await(TestServer server, Predicate<TestServer> condition, String what) throws Exception {
    try {
      Eventually.eventually(Duration.ofSeconds(20), what, () -> condition.test(server));
    } catch (AssertionError notYet) {
      throw new AssertionError(notYet.getMessage() + "; /readyz: "
          + Http.get(server.node.metricsPort(), "/readyz").body(), notYet);
    }
  }
}
