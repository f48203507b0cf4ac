package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code synod members} and {@code synod leader transfer} against three real servers (in this
 * JVM, on loopback sockets) and a fourth that joins: add, promote once caught up, transfer,
 * remove the leader (the CLI hands its leadership over first), and the refusals.
 */
class MembersCommandTest {
  @TempDir Path dir;
  private final List<TestServer> servers = new ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(TestServer::close);
  }

  private TestServer start(int id, String members, String state) throws Exception {
    TestServer s = new TestServer(dir.resolve("s" + id), "--server-id", Integer.toString(id), "--members", members,
        "--initial-cluster-state", state, "--election-ticks-min", "15", "--election-ticks-max", "30",
        "--heartbeat-ticks", "3");
    servers.add(s);
    return s;
  }

  /** Polls {@code value} until {@code done} holds, for at most 30 s. */
  private static <T> T await(String what, Supplier<T> value, Predicate<T> done) {
    return dev.synod.server.Eventually.eventually(java.time.Duration.ofSeconds(30), what, value, done);
  }


  private static Map<Integer, String> roles(CliRunner.Result r) {
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    Map<Integer, String> out = new TreeMap<>();
    for (JsonElement m : o.getAsJsonArray("members")) {
      out.put(m.getAsJsonObject().get("id").getAsInt(), m.getAsJsonObject().get("role").getAsString());
    }
    return out;
  }

  private static int leaderOf(CliRunner.Result r) {
    return JsonParser.parseString(r.out()).getAsJsonObject().get("leader_id").getAsInt();
  }

  @Test
  void growATransferAndRemoveTheLeader() throws Exception {
    int[] peer = new int[5];
    for (int i = 1; i <= 4; i++) {
      peer[i] = TestServer.freePort();
    }
    String members = "1=127.0.0.1:" + peer[1] + ",2=127.0.0.1:" + peer[2] + ",3=127.0.0.1:" + peer[3];
    List<String> clients = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      clients.add(start(i, members, "new").address());
    }
    CliRunner three = new CliRunner(String.join(",", clients), dir.resolve("history"));
    CliRunner.Result listed = await("a leader", () -> three.run("members", "list", "--json"),
        r -> r.code() == 0 && leaderOf(r) != 0);
    assertEquals(Map.of(1, "voter", 2, "voter", 3, "voter"), roles(listed));
    three.run("create", "/before", "x");

    clients.add(start(4, members + ",4=127.0.0.1:" + peer[4], "existing").address());
    CliRunner four = new CliRunner(String.join(",", clients), dir.resolve("history"));
    CliRunner.Result added = four.run("members", "add", "4", "127.0.0.1:" + peer[4]);
    assertEquals(0, added.code(), added.err());
    assertTrue(added.out().contains("learner") && added.out().contains("127.0.0.1:" + peer[4]), added.out());

    CliRunner.Result promoted = await("4 promoted", () -> four.run("members", "promote", "4", "--json"),
        r -> r.code() == 0 || !r.err().contains("learner 4"));
    assertEquals(0, promoted.code(), promoted.err());
    assertEquals(Map.of(1, "voter", 2, "voter", 3, "voter", 4, "voter"), roles(promoted));

    CliRunner.Result transferred = four.run("leader", "transfer", "4", "--json");
    assertEquals(0, transferred.code(), transferred.err());
    assertEquals(4, leaderOf(transferred));

    CliRunner.Result removed = four.run("members", "remove", "4");
    assertEquals(0, removed.code(), removed.err());
    assertTrue(removed.out().startsWith("server 4 leads: handing leadership to server "), removed.out());
    CliRunner.Result after = four.run("members", "list", "--json");
    assertEquals(Map.of(1, "voter", 2, "voter", 3, "voter"), roles(after));
    assertTrue(leaderOf(after) >= 1 && leaderOf(after) <= 3, after.out());
    assertEquals(0, three.run("create", "/after", "y").code(), "the three voters go on");
    assertTrue(three.run("get", "/synod/members").out().contains("3 voter"), "readable by anyone");

    CliRunner.Result notMember = three.run("members", "promote", "9");
    assertEquals(ExitCodes.ERROR, notMember.code());
    assertTrue(notMember.err().contains("server 9 is not a member"), notMember.err());
    CliRunner.Result badAddress = three.run("members", "add", "5", "nohost");
    assertEquals(ExitCodes.ERROR, badAddress.code());
    assertTrue(badAddress.err().contains("host:port"), badAddress.err());
    CliRunner.Result write = three.run("set", "/synod/members", "evil");
    assertEquals(ExitCodes.NO_AUTH, write.code(), write.err());
  }
}
