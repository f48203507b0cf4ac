package dev.synod.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.StatusResponse;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FIFO client order end to end: one session's writes apply in the order it made them, with no
 * gaps, when one of them is lost on its way (with a leader) or refused (a queue limit). Sequential
 * creates show the order in which they were applied.
 */
class SessionFifoTest {
  @TempDir Path dir;

  static final CreateOptions SEQUENTIAL = CreateOptions.PERSISTENT.sequential();

  static int leaderSeenBy(LocalServers cluster, int id) {
    StatusResponse.Builder status = StatusResponse.newBuilder();
    cluster.nodes[id].driver().describe(status);
    return status.getLeaderId();
  }

  static void assertAppliedInOrder(SynodClient client, List<CompletableFuture<CreateResult>> writes) throws Exception {
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < writes.size(); i++) {
      paths.add(writes.get(i).get(30, TimeUnit.SECONDS).path());
    }
    List<String> sorted = new ArrayList<>(paths);
    sorted.sort(null);
    assertEquals(sorted, paths, "applied in the order made");
    assertEquals(paths.size(), client.getChildren("/q").size(), "each once");
    for (int i = 0; i < paths.size(); i++) {
      assertEquals("w" + i, new String(client.getData(paths.get(i)).data(), UTF_8));
    }
  }

  @Test
  void aWriteLostWithItsLeaderIsNotOvertakenByTheNextOne() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = leader % 3 + 1;
      try (SynodClient client = SynodClient.builder().connectString("127.0.0.1:" + cluster.nodes[follower].port())
          .sessionTimeout(Duration.ofSeconds(10)).build().start()) {
        assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
        client.create("/q", new byte[0]);
        // The leader hears nothing any more: the write its follower forwards now is lost with it.
        cluster.deafen(leader, true);
        List<CompletableFuture<CreateResult>> writes = new ArrayList<>();
        writes.add(client.createAsync("/q/n-", "w0".getBytes(UTF_8), SEQUENTIAL));
        Eventually.eventually(Duration.ofSeconds(20), "server " + follower + " sees a new leader (not " + leader + ")",
            () -> leaderSeenBy(cluster, follower), seen -> seen != leader && seen != 0);
        // The next write reaches the new leader while the first is still awaited.
        writes.add(client.createAsync("/q/n-", "w1".getBytes(UTF_8), SEQUENTIAL));
        assertAppliedInOrder(client, writes);
      } finally {
        cluster.deafen(leader, false);
      }
    }
  }

  @Test
  void writesRefusedByAQueueLimitStillApplyInOrder() throws Exception {
    try (LocalServers server = new LocalServers(dir, 1, "--pending-requests-per-session-max", "2");
         SynodClient client = SynodClient.builder().connectString(server.connectString()).build().start()) {
      assertTrue(client.blockUntilConnected(Duration.ofSeconds(10)));
      client.create("/q", new byte[0]);
      List<CompletableFuture<CreateResult>> writes = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        writes.add(client.createAsync("/q/n-", ("w" + i).getBytes(UTF_8), SEQUENTIAL));
      }
      assertAppliedInOrder(client, writes);
      assertTrue(client.testRetries(ErrorReason.OVERLOADED) > 0, "the limit was hit");
    }
  }
}
