package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import dev.synod.server.storage.ClusterIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster is created once, explicitly, and empty disks never vote their way into a new history:
 * the finding "a second history from empty disks", on real servers, and the documented recovery
 * (docs/majority-loss.md) from the survivor.
 */
class MajorityLossTest {
  /** 15 election timeouts of these servers (tick 10 ms, elections after 10..20 ticks). */
  private static final long QUIET_WINDOW_MS = 15 * 20 * 10;

  @TempDir Path dir;

  private static boolean exists(TestServer s, String path) {
    return s.blocking().exists(ExistsRequest.newBuilder().setPath(path).build()).getExists();
  }

  /** For the whole window (a bounded observation, not a wait for something to happen): no leader. */
  private static void assertNoLeaderFor(TestCluster c, long windowMs, String why) throws InterruptedException {
    Eventually.holdsFor(Duration.ofMillis(windowMs), "no leader: " + why, () -> {
      for (int i = 1; i < c.servers.length; i++) {
        assertFalse(c.servers[i] != null && c.servers[i].node.driver().isLeader(),
            "server " + i + " became leader: " + why);
      }
      return true;
    });
  }

  private static void deleteRecursively(Path p) throws Exception {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> files = Files.walk(p)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  private static void copyRecursively(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  @Test
  void emptyDisksOfAMajorityDoNotFoundASecondHistory_theSurvivorRefoundsTheCluster() throws Exception {
    try (TestCluster c = new TestCluster(dir, 3, 2)) { // member 3 never starts (yet)
      int leader = c.awaitLeader();
      c.servers[leader].blocking().create(CreateRequest.newBuilder().setPath("/acknowledged").build());
      assertTrue(exists(c.servers[2], "/acknowledged") || exists(c.servers[1], "/acknowledged"));

      // Member 1's disk is lost, member 2 is down.
      c.stop(1);
      c.stop(2);
      deleteRecursively(c.dataDir(1));

      // An empty directory of a cluster with --members: the operator must say what it is for.
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> c.start(1, ""));
      assertTrue(refused.getMessage().contains("--initial-cluster-state"), refused.getMessage());

      c.start(1, "existing"); // it joins the cluster that exists
      c.start(3); // its first start, as the founder it was created as
      assertNoLeaderFor(c, QUIET_WINDOW_MS, "1 and 3 have empty disks: they must not found a history");
      assertEquals(0, c.servers[1].node.state().lastZxid(), "nothing decided");
      assertEquals(0, c.servers[3].node.state().lastZxid(), "nothing decided");

      c.start(2);
      assertNoLeaderFor(c, QUIET_WINDOW_MS, "2 alone is not a majority; 1 and 3 wait to be admitted");
      assertTrue(exists(c.servers[2], "/acknowledged"), "the acknowledged write is intact on 2");
      for (int i = 1; i <= 3; i++) {
        assertEquals(List.of(), c.servers[i].fatalErrors, "server " + i);
      }

      // Recovery (docs/majority-loss.md): stop every server, copy the most up-to-date survivor's
      // data directory over every other member's, start them all.
      for (int i = 1; i <= 3; i++) {
        c.stop(i);
      }
      for (int i : new int[] {1, 3}) {
        deleteRecursively(c.dataDir(i));
        copyRecursively(c.dataDir(2), c.dataDir(i));
      }
      for (int i = 1; i <= 3; i++) {
        c.start(i);
      }
      leader = c.awaitLeader();
      c.servers[leader].blocking().create(CreateRequest.newBuilder().setPath("/after").build());
      for (int i = 1; i <= 3; i++) {
        TestServer s = c.servers[i];
        Eventually.eventually(Duration.ofSeconds(10), "server " + i + " has /after", () -> exists(s, "/after"));
        assertTrue(exists(c.servers[i], "/acknowledged") && exists(c.servers[i], "/after"), "server " + i);
      }
    }
  }

  @Test
  void aMemberOfAnotherClusterIsNotListenedTo() throws Exception {
    try (TestCluster c = new TestCluster(dir, 3)) {
      int leader = c.awaitLeader();
      c.servers[leader].blocking().create(CreateRequest.newBuilder().setPath("/a").build());
      long id = awaitClusterId(c);
      int other = c.aFollower(leader);
      for (int i = 1; i <= 3; i++) {
        TestServer s = c.servers[i];
        Eventually.eventually(Duration.ofSeconds(10), "server " + i + " learned the cluster id " + id,
            () -> clusterId(s), learned -> learned == id);
      }
      // The follower's directory now says it belongs to another cluster (copied from one, say).
      c.stop(other);
      Files.writeString(c.dataDir(other).resolve("CLUSTER"), "cluster-id=" + ClusterIdentity.text(id ^ 1)
          + "\nfounding=false\n");
      c.start(other);
      c.servers[leader].blocking().create(CreateRequest.newBuilder().setPath("/b").build());
      TestServer outsider = c.servers[other];
      Eventually.holdsFor(Duration.ofMillis(QUIET_WINDOW_MS), "it learned nothing from the other cluster", () -> {
        assertFalse(exists(outsider, "/b"), "it learned nothing from the other cluster");
        assertFalse(outsider.node.driver().isLeader());
        return true;
      });
      assertEquals(List.of(), c.servers[other].fatalErrors);
    }
  }

  private static long clusterId(TestServer s) {
    return s.node.driver().clusterId();
  }

  private static long awaitClusterId(TestCluster c) throws InterruptedException {
    return Eventually.eventually(Duration.ofSeconds(10), "the cluster decided an id (the leader's)", () -> {
      int leader = -1;
      for (int i = 1; i < c.servers.length; i++) {
        if (c.servers[i] != null && c.servers[i].node.driver().isLeader()) {
          leader = i;
        }
      }
      return leader > 0 ? clusterId(c.servers[leader]) : 0L;
    }, id -> id != 0);
  }
}
