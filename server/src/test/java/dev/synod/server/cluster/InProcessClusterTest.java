package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.server.Eventually;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 3-server cluster over in-process gRPC: forwarding, replication, failover, sessions. */
class InProcessClusterTest {
  @TempDir Path dir;

  static Request.Builder create(String path, NodeKind kind) {
    return Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path).setKind(kind));
  }

  @Test
  void aClientOfAFollowerSeesItsOwnWritesAndItsWatchesFire() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      StreamClient c = StreamClient.open(cluster.servers[follower].channel(), 5_000);
      var created = c.call(create("/cfg", NodeKind.PERSISTENT));
      assertFalse(created.hasError(), created.toString());
      // Read-your-writes on the follower, right behind the write.
      var read = c.call(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath("/cfg").setWatch(true)));
      assertFalse(read.hasError(), read.toString());
      // A write through the leader fires the watch left on the follower.
      cluster.servers[leader].blocking().setData(SetDataRequest.newBuilder().setPath("/cfg")
          .setData(ByteString.copyFromUtf8("v2")).build());
      var event = c.awaitEvents(1).get(0);
      assertEquals(EventType.NODE_DATA_CHANGED, event.getType());
      // Every server applied the same state.
      for (int i = 1; i <= 3; i++) {
        cluster.servers[i].blocking().sync(SyncRequest.getDefaultInstance());
        assertEquals("v2", cluster.servers[i].blocking().getData(GetDataRequest.newBuilder().setPath("/cfg").build())
            .getData().toStringUtf8(), "server " + i);
      }
      var status = cluster.status(leader);
      assertEquals("leader", status.getRole());
      assertEquals(3, status.getMembersCount());
      for (var member : status.getMembersList()) {
        // Every member, the leader itself included, reports how far it has accepted.
        assertTrue(member.getMatchSlot() > 0, "member " + member.getId() + ": " + member);
      }
      var self = status.getMembersList().stream().filter(m -> m.getId() == leader).findFirst().orElseThrow();
      assertEquals(0, self.getLagSlots());
      assertEquals(leader, cluster.status(follower).getLeaderId());
    }
  }

  @Test
  void syncOnAFollowerIsLinearizable() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      for (int i = 0; i < 20; i++) {
        String path = "/lin" + i;
        cluster.servers[leader].blocking().create(CreateRequest.newBuilder().setPath(path).build());
        // Acknowledged by the leader: a sync on the follower must then show it.
        cluster.servers[follower].blocking().sync(SyncRequest.getDefaultInstance());
        assertTrue(cluster.servers[follower].blocking().exists(ExistsRequest.newBuilder().setPath(path).build()).getExists());
      }
    }
  }

  /**
   * The linearizable flag, unary and on the session stream: a read on a follower right after a
   * write acknowledged by the leader shows it (no separate Sync).
   */
  @Test
  void aLinearizableReadOnAFollowerSeesWritesAcknowledgedElsewhere() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      StreamClient c = StreamClient.open(cluster.servers[follower].channel(), 5_000);
      for (int i = 0; i < 20; i++) {
        String path = "/linflag" + i;
        cluster.servers[leader].blocking().create(CreateRequest.newBuilder().setPath(path)
            .setData(ByteString.copyFromUtf8("v" + i)).build());
        assertTrue(cluster.servers[follower].blocking().exists(
            ExistsRequest.newBuilder().setPath(path).setLinearizable(true).build()).getExists(), path);
        var read = c.call(Request.newBuilder().setGetData(
            GetDataRequest.newBuilder().setPath(path).setLinearizable(true)));
        assertFalse(read.hasError(), read.toString());
        assertEquals("v" + i, read.getGetData().getData().toStringUtf8());
      }
    }
  }

  /**
   * A member cut off from the quorum still serves plain reads from its state, but a linearizable
   * read is refused (LEADER_UNAVAILABLE) rather than answered with what may be stale.
   */
  @Test
  void aLinearizableReadWithoutAQuorumIsRefusedNotStale() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      cluster.servers[leader].blocking().create(CreateRequest.newBuilder().setPath("/alone").build());
      cluster.servers[follower].blocking().sync(SyncRequest.getDefaultInstance());
      for (int id = 1; id <= 3; id++) {
        if (id != follower) {
          cluster.stop(id);
        }
      }
      var stub = cluster.servers[follower].blocking();
      assertTrue(stub.exists(ExistsRequest.newBuilder().setPath("/alone").build()).getExists());
      var refused = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
          () -> stub.exists(ExistsRequest.newBuilder().setPath("/alone").setLinearizable(true).build()));
      assertEquals(io.grpc.Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
    }
  }

  @Test
  void writesContinueAfterTheLeaderStopsAndSessionsSurvive() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      StreamClient c = StreamClient.open(cluster.servers[follower].channel(), 3_000);
      assertFalse(c.call(create("/member", NodeKind.EPHEMERAL)).hasError());
      cluster.stop(leader);
      int next = cluster.awaitLeader();
      assertTrue(next != leader);
      // The session keeps heartbeating through its follower across the change; it must not expire.
      long end = System.currentTimeMillis() + 4_000;
      while (System.currentTimeMillis() < end) {
        c.heartbeat(System.nanoTime());
        Thread.sleep(100); // the client's heartbeat interval for a fixed span, not a wait for a condition
      }
      var r = c.call(create("/after-failover", NodeKind.PERSISTENT));
      assertFalse(r.hasError(), r.toString());
      assertTrue(cluster.servers[next].blocking().exists(ExistsRequest.newBuilder().setPath("/member").build()).getExists(),
          "the ephemeral of a live session survives a leader change");
      // The old leader comes back and catches up.
      cluster.start(leader);
      TestServer restarted = cluster.servers[leader];
      Eventually.eventually(Duration.ofSeconds(10), "the restarted server caught up (has /after-failover)",
          () -> restarted.blocking().exists(ExistsRequest.newBuilder().setPath("/after-failover").build()).getExists());
    }
  }

  @Test
  void aSessionThatStopsHeartbeatingExpiresClusterWide() throws Exception {
    try (TestCluster cluster = new TestCluster(dir, 3, "session-timeout-min-ms", "300")) {
      int leader = cluster.awaitLeader();
      int follower = cluster.aFollower(leader);
      StreamClient c = StreamClient.open(cluster.servers[follower].channel(), 500);
      assertFalse(c.call(create("/gone-soon", NodeKind.EPHEMERAL)).hasError());
      TestServer leading = cluster.servers[leader];
      Eventually.eventually(Duration.ofSeconds(10), "the session expired (/gone-soon removed)",
          () -> !leading.blocking().exists(ExistsRequest.newBuilder().setPath("/gone-soon").build()).getExists());
    }
  }
}
