package dev.synod.server.process;

import static dev.synod.server.process.MembershipProcessTest.admin;
import static dev.synod.server.process.MembershipProcessTest.roles;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.api.v1.AddMemberRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.server.Eventually;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's two everyday changes on real processes, under writes: a dead member is replaced
 * (a new machine is added as a learner, promoted, the dead one removed, and the cluster never
 * needs more than a majority of its current voters), and the cluster grows from three voters to
 * five and shrinks back to three. Nothing acknowledged is lost.
 */
class MembershipReplaceTest {
  @TempDir Path dir;

  /** The member that leads now (leadership may move while the load runs). */
  private static int leader(ProcessCluster cluster) {
    try {
      return cluster.awaitLeader(1, 2, 3, 4, 5, 6);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static ListMembersResponse add(ProcessCluster cluster, int id) throws Exception {
    return Eventually.eventually(Duration.ofSeconds(30), "member " + id + " added", () -> {
      try {
        return admin(cluster, leader(cluster)).addMember(AddMemberRequest.newBuilder().setId(id)
            .setAddress(cluster.peerAddress(id)).build());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.ABORTED
            || (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
                && e.getStatus().getDescription().contains("not the leader"))) {
          return null;
        }
        throw e;
      }
    }, r -> r != null);
  }

  /** Promotes learner {@code id} once it has caught up (the leader refuses while it is behind). */
  private static ListMembersResponse promote(ProcessCluster cluster, int id) throws Exception {
    return Eventually.eventually(Duration.ofSeconds(30), "learner " + id + " promoted", () -> {
      try {
        return admin(cluster, leader(cluster)).promoteMember(MemberRequest.newBuilder().setId(id).build());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
            || e.getStatus().getCode() == Status.Code.ABORTED) {
          return null; // behind, or the previous change still settling: not yet
        }
        throw e;
      }
    }, r -> r != null);
  }

  /** Removes {@code id}; if it leads, leadership goes to {@code heir} first (as synod members remove does). */
  private static ListMembersResponse remove(ProcessCluster cluster, int id, int heir) throws Exception {
    return Eventually.eventually(Duration.ofSeconds(30), "member " + id + " removed", () -> {
      int leader = leader(cluster);
      try {
        if (leader == id) {
          admin(cluster, leader).transferLeader(MemberRequest.newBuilder().setId(heir).build());
          return null;
        }
        return admin(cluster, leader).removeMember(MemberRequest.newBuilder().setId(id).build());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.ABORTED || e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
          return null; // a change in progress, or leadership moved meanwhile: again
        }
        throw e;
      }
    }, r -> r != null);
  }

  @Test
  void aDeadMemberIsReplacedAndTheClusterGrowsToFiveAndShrinksBack() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3, 3, "--snapshot-every-txns", "300")) {
      int leader = cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "replace", 4);
      int dead = leader % 3 + 1;
      Map<Integer, String> expected = new java.util.TreeMap<>(Map.of(4, "voter"));
      for (int i = 1; i <= 3; i++) {
        if (i != dead) {
          expected.put(i, "voter");
        }
      }
      try {
        Eventually.eventually(Duration.ofSeconds(20), "writes under way", () -> load.acked.size(), n -> n > 200);
        // A follower's machine dies for good: replace it with server 4.
        cluster.kill(dead);
        cluster.startSpare(4);
        add(cluster, 4);
        promote(cluster, 4);
        ListMembersResponse replaced = remove(cluster, dead, 4);
        assertEquals(expected, roles(replaced));
        long before = load.acked.size();
        Eventually.eventually(Duration.ofSeconds(20), "writes go on after the replacement",
            () -> load.acked.size(), n -> n > before + 100);

        // Grow to five voters (servers 5 and 6 join, one at a time), then shrink back to three.
        for (int id = 5; id <= 6; id++) {
          cluster.startSpare(id);
          add(cluster, id);
          promote(cluster, id);
        }
        ListMembersResponse five = admin(cluster, leader(cluster)).listMembers(
            dev.synod.api.v1.ListMembersRequest.getDefaultInstance());
        assertEquals(5, roles(five).values().stream().filter("voter"::equals).count(), five.toString());
        remove(cluster, 6, 4);
        ListMembersResponse three = remove(cluster, 5, 4);
        assertEquals(expected, roles(three));
        long after = load.acked.size();
        Eventually.eventually(Duration.ofSeconds(20), "writes go on with three voters again",
            () -> load.acked.size(), n -> n > after + 100);
      } finally {
        load.close();
      }
      for (int i : expected.keySet()) {
        ClusterFaultTest.assertHasAll(cluster, i, load.acked);
      }
    }
  }
}
