package dev.synod.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance as an operator does it: every member of a 3-member cluster restarted in turn while
 * clients write, the leader handing its leadership to another member first (synod leader
 * transfer). Writes never stop for longer than one election, and nothing acknowledged is lost.
 */
class RollingRestartTest {
  /** The cluster's election timeout at most (ProcessCluster: 30 ticks of 10 ms). */
  private static final long ELECTION_MS = 300;
  /**
   * What a loaded 2-core test machine adds to it: a writer's retry back-off (20 ms), a failed
   * call's round trip to a dead server, and scheduling of four JVMs on two cores.
   */
  private static final long MARGIN_MS = 1_200;

  @TempDir Path dir;

  @Test
  void everyMemberRestartedInTurnUnderWritesLeavesNoGapLongerThanAnElection() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      cluster.awaitLeader(cluster.all());
      ClusterLoad load = new ClusterLoad(cluster, "roll", 4);
      long from;
      long to;
      int transfers = 0;
      try {
        Eventually.eventually(Duration.ofSeconds(20), "writes under way", () -> load.acked.size(), n -> n > 200);
        from = System.nanoTime();
        for (int i = 1; i <= 3; i++) {
          int leader = cluster.awaitLeader(cluster.all());
          if (leader == i) {
            int next = i % 3 + 1;
            ListMembersResponse moved = MembershipProcessTest.admin(cluster, i)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .transferLeader(MemberRequest.newBuilder().setId(next).build());
            assertEquals(next, moved.getLeaderId(), moved.toString());
            transfers++;
          }
          cluster.kill(i);
          cluster.start(i);
          int restarted = i;
          // Back and caught up: it follows a leader and has applied what that leader committed.
          Eventually.eventually(Duration.ofSeconds(30), "server " + i + " caught up after its restart", () -> {
            try {
              var st = cluster.status(restarted);
              int lead = (int) st.getLeaderId();
              if (lead == 0 || lead == restarted) {
                return false;
              }
              return st.getAppliedSlot() + 50 >= cluster.status(lead).getCommitSlot();
            } catch (RuntimeException starting) {
              return false;
            }
          }, ok -> ok);
          long before = load.acked.size();
          Eventually.eventually(Duration.ofSeconds(20), "writes go on after server " + i + " restarted",
              () -> load.acked.size(), n -> n > before + 50);
        }
        to = System.nanoTime();
      } finally {
        load.close();
      }
      assertTrue(transfers >= 1, "a leader was handed over before its own restart");
      long gapMs = TimeUnit.NANOSECONDS.toMillis(load.longestGapNanos(from, to));
      assertTrue(gapMs <= ELECTION_MS + MARGIN_MS, "writes stopped for " + gapMs + " ms during the rolling"
          + " restart (one election is at most " + ELECTION_MS + " ms); logs:\n" + cluster.logs());
      for (int i = 1; i <= 3; i++) {
        ClusterFaultTest.assertHasAll(cluster, i, load.acked);
      }
    }
  }
}
