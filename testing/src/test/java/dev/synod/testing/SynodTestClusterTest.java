package dev.synod.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.synod.client.SynodClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A 3-member cluster in the test's JVM: the leader stops, the rest go on, it comes back. */
class SynodTestClusterTest {
  @Test
  void stoppingTheLeaderElectsAnotherAndTheClientGoesOn() {
    try (SynodTestCluster cluster = SynodTestCluster.start(3);
         SynodClient client = SynodClient.builder().connectString(cluster.connectString()).build().start()) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      client.create("/before", "1".getBytes(UTF_8));
      cluster.stop(leader);
      int next = cluster.awaitLeader(Duration.ofSeconds(20));
      assertNotEquals(leader, next);
      Eventually.eventually(Duration.ofSeconds(20), () -> client.create("/after", "2".getBytes(UTF_8)));
      cluster.restart(leader);
      try (SynodClient onOld = SynodClient.builder().connectString(cluster.connectString(leader)).build().start()) {
        Eventually.eventually(Duration.ofSeconds(20), () ->
            assertEquals("2", new String(onOld.getData("/after").data(), UTF_8)));
      }
    }
  }
}
