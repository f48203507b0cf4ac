package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddMemberRequest;
import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.ListMembersRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.api.v1.MemberStatus;
import dev.synod.server.Eventually;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on a cluster of real processes: a 4th member joins with an empty directory
 * as a learner, catches up and is promoted while clients write; leadership moves to it; a founder
 * is removed; a restarted member keeps the membership it applied (read back from /synod/members).
 */
class MembershipProcessTest {
  @TempDir Path dir;

  static AdminGrpc.AdminBlockingStub admin(ProcessCluster cluster, int i) {
    return AdminGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Role of each member, as server {@code i} lists them. */
  static Map<Integer, String> roles(ListMembersResponse r) {
    Map<Integer, String> out = new TreeMap<>();
    for (MemberStatus m : r.getMembersList()) {
      out.put(m.getId(), m.getRole());
    }
    return out;
  }

  static MemberStatus member(ListMembersResponse r, int id) {
    return r.getMembersList().stream().filter(m -> m.getId() == id).findFirst().orElseThrow();
  }

  @Test
  void aFourthMemberJoinsUnderWritesThenLeadsAFounderIsRemovedAndRestartsKeepTheMembership() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3, 1, "--snapshot-every-txns", "300")) {
      int leader = cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "grow", 4);
      try {
        // Enough history that the new member needs a snapshot or many entries to catch up.
        Eventually.eventually(Duration.ofSeconds(20), "writes under way", () -> load.acked.size(), n -> n > 400);
        cluster.startSpare(4);

        // A follower does not make changes: it names the leader.
        int follower = leader % 3 + 1;
        StatusRuntimeException notLeader = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> admin(cluster, follower).addMember(AddMemberRequest.newBuilder().setId(4)
                .setAddress(cluster.peerAddress(4)).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, notLeader.getStatus().getCode(), notLeader.toString());
        assertTrue(notLeader.getStatus().getDescription().contains("server " + leader + " is"), notLeader.toString());

        ListMembersResponse added = admin(cluster, leader).addMember(AddMemberRequest.newBuilder().setId(4)
            .setAddress(cluster.peerAddress(4)).build());
        assertEquals(Map.of(1, "voter", 2, "voter", 3, "voter", 4, "learner"), roles(added));

        // Promoted once caught up (the leader refuses while it is far behind).
        ListMembersResponse promoted = Eventually.eventually(Duration.ofSeconds(30), "learner 4 promoted", () -> {
          try {
            return admin(cluster, leader).promoteMember(MemberRequest.newBuilder().setId(4).build());
          } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
                && e.getStatus().getDescription().contains("learner 4")) {
              return null; // behind: not yet
            }
            throw e;
          }
        }, r -> r != null);
        assertEquals(Map.of(1, "voter", 2, "voter", 3, "voter", 4, "voter"), roles(promoted));
        long before = load.acked.size();
        Eventually.eventually(Duration.ofSeconds(20), "writes go on with four voters", () -> load.acked.size(),
            n -> n > before + 100);
      } finally {
        load.close();
      }
      for (int i = 1; i <= 4; i++) {
        ClusterFaultTest.assertHasAll(cluster, i, load.acked);
      }

      // Leadership to the newcomer, then the founder that led before goes.
      ListMembersResponse transferred = admin(cluster, leader).transferLeader(MemberRequest.newBuilder().setId(4).build());
      assertEquals(4, transferred.getLeaderId(), transferred.toString());
      assertEquals(4, cluster.awaitLeader(1, 2, 3, 4));
      ListMembersResponse removed = admin(cluster, 4).removeMember(MemberRequest.newBuilder().setId(leader).build());
      assertEquals(3, removed.getMembersCount(), removed.toString());
      assertTrue(!roles(removed).containsKey(leader), removed.toString());
      cluster.kill(leader);

      // The three voters left go on; a restarted one knows the membership from its own disk.
      int other = java.util.stream.IntStream.rangeClosed(1, 3).filter(i -> i != leader).findFirst().orElseThrow();
      cluster.kill(other);
      cluster.start(other);
      ListMembersResponse afterRestart = Eventually.eventually(Duration.ofSeconds(20), "server " + other + " back",
          () -> {
            try {
              return admin(cluster, other).listMembers(ListMembersRequest.getDefaultInstance());
            } catch (StatusRuntimeException starting) {
              return null;
            }
          },
          r -> r != null && r.getLeaderId() != 0);
      assertEquals(roles(removed), roles(afterRestart));
      String stored = cluster.stub(other).getData(GetDataRequest.newBuilder().setPath("/synod/members").build())
          .getData().toStringUtf8();
      assertTrue(stored.contains("4 voter " + cluster.peerAddress(4)) && !stored.contains(leader + " voter"), stored);
      cluster.stub(other).create(CreateRequest.newBuilder().setPath("/after").setData(ByteString.copyFromUtf8("x")).build());
      assertEquals("x", cluster.stub(4).getData(GetDataRequest.newBuilder().setPath("/after").build())
          .getData().toStringUtf8());

      // Clients may read the system node, not write it.
      StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> cluster.stub(other).create(CreateRequest.newBuilder().setPath("/synod/mine").build()));
      assertEquals(Status.Code.PERMISSION_DENIED, refused.getStatus().getCode(), refused.toString());
    }
  }
}
