package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.WatchEvent;
import dev.synod.server.Eventually;
import dev.synod.server.StreamClient;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.SyncRequest;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 3-server cluster of real processes on loopback under kill -9 and partitions. */
class ClusterFaultTest {
  @TempDir Path dir;

  /** Every acknowledged path is on server {@code i}, after it syncs with the cluster. */
  static void assertHasAll(ProcessCluster cluster, int i, Map<String, Long> acked) throws Exception {
    try {
      Eventually.eventually(Duration.ofSeconds(20), () -> cluster.stub(i).sync(SyncRequest.getDefaultInstance()));
    } catch (StatusRuntimeException notYet) {
      throw new AssertionError("server " + i + " cannot sync: " + notYet + "\n" + cluster.logs(), notYet);
    }
    for (String path : acked.keySet()) {
      var got = cluster.stub(i).getData(GetDataRequest.newBuilder().setPath(path).build());
      assertEquals(ClusterLoad.valueOf(path), got.getData(), "server " + i + " " + path);
    }
  }

  @Test
  void aClientOfAFollowerProcessSeesItsOwnWritesAndItsWatchesFire() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      int leader = cluster.awaitLeader(cluster.all());
      int follower = leader % 3 + 1;
      StreamClient c = StreamClient.open(cluster.channel(follower), 5_000);
      try {
        Response created = c.call(Request.newBuilder().setCreate(
            CreateRequest.newBuilder().setPath("/seen").setData(ByteString.copyFromUtf8("mine"))));
        assertTrue(!created.hasError(), created.toString());
        Response read = c.call(Request.newBuilder().setGetData(
            GetDataRequest.newBuilder().setPath("/seen").setWatch(true)));
        assertEquals("mine", read.getGetData().getData().toStringUtf8(), "read-your-writes on a follower");
        cluster.stub(leader).setData(SetDataRequest.newBuilder().setPath("/seen")
            .setData(ByteString.copyFromUtf8("theirs")).build());
        WatchEvent event = c.awaitEvents(1).get(0);
        assertEquals(EventType.NODE_DATA_CHANGED, event.getType());
        assertEquals("/seen", event.getPath());
      } finally {
        c.close();
      }
    }
  }

  @Test
  void killingTheLeaderUnderLoadLosesNothingAndTheOldLeaderCatchesUp() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      int leader = cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "kill", 6);
      Thread.sleep(1_500); // the load runs this long: the scenario, not a wait
      long killedAt = System.nanoTime();
      cluster.kill(leader);
      int[] rest = java.util.Arrays.stream(cluster.all()).filter(i -> i != leader).toArray();
      int next = cluster.awaitLeader(rest);
      Thread.sleep(1_500); // the load runs this long: the scenario, not a wait
      load.close();
      assertTrue(load.ackedSince(killedAt) > 50, "writes continued after the leader died: "
          + load.ackedSince(killedAt) + "\n" + cluster.logs());
      assertTrue(next != leader);
      cluster.start(leader);
      for (int i : cluster.all()) {
        assertHasAll(cluster, i, load.acked);
      }
      assertEquals(java.util.Optional.empty(),
          dev.synod.server.sim.Linearizability.check(load.history(cluster, leader)));
    }
  }

  @Test
  void killingAllThreeAtOnceLosesNothingAcknowledged() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3, "--snapshot-every-txns", "500")) {
      cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "all", 6);
      Thread.sleep(2_000); // the load runs this long: the scenario, not a wait
      for (int i : cluster.all()) {
        cluster.kill(i);
      }
      load.close();
      assertTrue(load.acked.size() > 100, "the load made progress: " + load.acked.size());
      for (int i : cluster.all()) {
        cluster.start(i);
      }
      cluster.awaitLeader(cluster.all());
      for (int i : cluster.all()) {
        assertHasAll(cluster, i, load.acked);
      }
      assertEquals(java.util.Optional.empty(),
          dev.synod.server.sim.Linearizability.check(load.history(cluster, 1)));
    }
  }

  @Test
  void aFollowerWithAnEmptyDataDirectoryRejoinsFromASnapshot() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3, "--snapshot-every-txns", "200")) {
      int leader = cluster.awaitLeader(cluster.all());
      int follower = leader % 3 + 1;
      ClusterLoad load = new ClusterLoad(cluster, "snap", 4);
      Thread.sleep(2_000); // the load runs this long: the scenario, not a wait
      cluster.kill(follower);
      Thread.sleep(1_000); // the load runs this long: the scenario, not a wait
      load.close();
      try (Stream<Path> files = Files.walk(dir.resolve("s" + follower))) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      cluster.start(follower, "existing"); // an empty directory of a member of the cluster
      assertHasAll(cluster, follower, load.acked);
      assertEquals(java.util.Optional.empty(),
          dev.synod.server.sim.Linearizability.check(load.history(cluster, follower)));
      assertTrue(cluster.status(follower).getSnapshotZxid() > 0
          || Files.list(dir.resolve("s" + follower).resolve("snapshots")).findAny().isPresent(),
          "the wiped follower installed a snapshot from the leader");
      String log = cluster.servers[follower].log();
      assertTrue(log.contains("fetched a snapshot through slot"), "caught up by a streamed snapshot: " + log);
    }
  }

  @Test
  void anIsolatedLeaderCannotCommitTheMajorityGoesOnAndItConvergesAfterHealing() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      int old = cluster.awaitLeader(cluster.all());
      cluster.stub(old).create(CreateRequest.newBuilder().setPath("/before").build());
      cluster.isolate(old);
      // The minority cannot commit: its write never gets a quorum.
      assertThrows(StatusRuntimeException.class, () -> cluster.stub(old)
          .withDeadlineAfter(4, TimeUnit.SECONDS)
          .create(CreateRequest.newBuilder().setPath("/minority").build()));
      int[] majority = java.util.Arrays.stream(cluster.all()).filter(i -> i != old).toArray();
      int next = cluster.awaitLeader(majority);
      for (int i = 0; i < 50; i++) {
        cluster.stub(majority[i % 2]).create(CreateRequest.newBuilder().setPath("/majority-" + i).build());
      }
      cluster.heal();
      try {
        Eventually.eventually(Duration.ofSeconds(20), "the healed server converged (has /majority-49)", () -> {
          try {
            cluster.stub(old).sync(SyncRequest.getDefaultInstance());
            return cluster.stub(old).exists(ExistsRequest.newBuilder().setPath("/majority-49").build()).getExists();
          } catch (StatusRuntimeException notYet) {
            return false; // still rejoining
          }
        });
      } catch (AssertionError notYet) {
        throw new AssertionError(notYet.getMessage() + "\n" + cluster.logs(), notYet);
      }
      assertTrue(next != old);
      for (int i : cluster.all()) {
        assertTrue(!cluster.stub(i).exists(ExistsRequest.newBuilder().setPath("/minority").build()).getExists(),
            "the minority's write never took effect (server " + i + ")");
        assertTrue(cluster.stub(i).exists(ExistsRequest.newBuilder().setPath("/before").build()).getExists());
      }
    }
  }

  /**
   * A leader frozen (SIGSTOP, as a long GC pause or a stalled VM) under load: the others elect a
   * new leader and go on; when it wakes it still believes it leads, with requests that queued in
   * its sockets, and must neither lose nor reorder anything. The recorded history is judged by
   * the simulator's linearizability rule.
   */
  @Test
  void pausingTheLeaderUnderLoadLosesNothingAndTheHistoryIsLinearizable() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      int leader = cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "pause", 6);
      Eventually.eventually(Duration.ofSeconds(20), "the load made progress", () -> load.acked.size() > 50);
      long pausedAt = System.nanoTime();
      cluster.pause(leader);
      int[] rest = java.util.Arrays.stream(cluster.all()).filter(i -> i != leader).toArray();
      try {
        int next = cluster.awaitLeader(rest);
        assertTrue(next != leader);
        Eventually.eventually(Duration.ofSeconds(60), "writes go on while the old leader is frozen",
            () -> load.ackedSince(pausedAt) > 50);
      } finally {
        cluster.resume(leader);
      }
      long resumedAt = System.nanoTime();
      Eventually.eventually(Duration.ofSeconds(60), "writes go on after the old leader woke",
          () -> load.ackedSince(resumedAt) > 50);
      load.close();
      for (int i : cluster.all()) {
        assertHasAll(cluster, i, load.acked);
      }
      assertEquals(java.util.Optional.empty(),
          dev.synod.server.sim.Linearizability.check(load.history(cluster, leader)));
    }
  }

  /**
   * The leader cut off from both peers (its clients still reach it) under load, then healed: the
   * writes it took while cut off never take effect unless acknowledged by the majority, and the
   * recorded history is linearizable.
   */
  @Test
  void partitioningTheLeaderUnderLoadKeepsTheHistoryLinearizable() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      int leader = cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "cut", 6);
      Eventually.eventually(Duration.ofSeconds(20), "the load made progress", () -> load.acked.size() > 50);
      long cutAt = System.nanoTime();
      cluster.isolate(leader);
      int[] rest = java.util.Arrays.stream(cluster.all()).filter(i -> i != leader).toArray();
      int next = cluster.awaitLeader(rest);
      assertTrue(next != leader);
      Eventually.eventually(Duration.ofSeconds(60), "the majority goes on without its old leader",
          () -> load.ackedSince(cutAt) > 50);
      cluster.heal();
      long healedAt = System.nanoTime();
      Eventually.eventually(Duration.ofSeconds(60), "writes go on after the heal",
          () -> load.ackedSince(healedAt) > 50);
      load.close();
      for (int i : cluster.all()) {
        assertHasAll(cluster, i, load.acked);
      }
      assertEquals(java.util.Optional.empty(),
          dev.synod.server.sim.Linearizability.check(load.history(cluster, leader)));
    }
  }
}
