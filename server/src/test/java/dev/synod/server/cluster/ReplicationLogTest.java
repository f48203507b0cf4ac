package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.synod.server.Eventually;
import dev.synod.server.observe.LogCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cluster says in its log who started an election, who won it, and at which ballot. */
class ReplicationLogTest {
  @TempDir Path dir;

  @Test
  void electionAndLeaderAreLoggedWithMemberAndBallot() throws Exception {
    try (LogCapture log = new LogCapture("dev.synod.server.replication", Level.INFO);
         TestCluster cluster = new TestCluster(dir, 3)) {
      int leader = cluster.awaitLeader();
      String won = "server " + leader + ": won the election: leader at ballot ";
      awaitLine(log, line -> line.startsWith(won));
      awaitLine(log, line -> line.startsWith("server " + leader + ": starting an election at ballot "));
      int follower = cluster.aFollower(leader);
      awaitLine(log, line -> line.startsWith("server " + follower + ": following server " + leader
          + " (leader at ballot "));
      ILoggingEvent event = log.events().stream()
          .filter(e -> e.getFormattedMessage().startsWith(won)).findFirst().orElseThrow();
      // JSON lines carry the member and the ballot as fields.
      assertTrue(event.getKeyValuePairs().stream().anyMatch(kv -> kv.key.equals("server")
          && kv.value.equals(leader)), event.getKeyValuePairs().toString());
      assertTrue(event.getKeyValuePairs().stream().anyMatch(kv -> kv.key.equals("ballot")),
          event.getKeyValuePairs().toString());

      // Stopping the leader: a new one is elected and says so.
      cluster.stop(leader);
      int next = cluster.awaitLeader();
      awaitLine(log, line -> line.startsWith("server " + next + ": won the election: leader at ballot "));
    }
  }

  private static void awaitLine(LogCapture log, Predicate<String> wanted) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(15), "a wanted log line", log::lines,
        lines -> lines.stream().anyMatch(wanted));
  }
}
