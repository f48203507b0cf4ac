package dev.synod.tools.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Any language": the Python and Node.js example clients, each run by its own run-example.sh
 * exactly as a user would run it (installing its toolchain first if the machine lacks it),
 * against a real server. Each must open a session, create an ephemeral node, watch it, close the
 * session and see the node deleted; the server's own history must confirm every step.
 */
class ExampleClientsTest {
  /** Generous: on a fresh machine the Python run installs Debian packages first. */
  private static final Duration SCRIPT_LIMIT = Duration.ofMinutes(5);
  private static final String PARENT = "/polyglot";

  @TempDir
  static Path dir;
  private static InProcessServer server;
  private static ManagedChannel channel;
  private static SynodGrpc.SynodBlockingStub synod;

  @BeforeAll
  static void startServer() throws Exception {
    server = InProcessServer.start(dir.resolve("data"));
    channel = server.channel();
    synod = SynodGrpc.newBlockingStub(channel);
    call().create(CreateRequest.newBuilder().setPath(PARENT).build());
  }

  @AfterAll
  static void stopServer() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  private static SynodGrpc.SynodBlockingStub call() {
    return synod.withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"client-python", "client-node"})
  void ephemeralNodeDisappearsWhenTheExampleClosesItsSession(String client, @TempDir Path tmp)
      throws Exception {
    String path = PARENT + "/" + client;
    long before = call().status(StatusRequest.getDefaultInstance()).getLastZxid();

    ExampleScript.Result run = ExampleScript.of(client)
        .run(SCRIPT_LIMIT, tmp.resolve("output.txt"), server.target(), path);
    assertEquals(0, run.exitCode(), () -> client + "/run-example.sh exited with " + run.exitCode()
        + "; its output:\n" + run.output());

    // The server's own record: the node was created as an ephemeral of one session, then deleted.
    List<WatchEvent> changes = ServerHistory.changesOf(channel, path, before, 2, Duration.ofSeconds(10));
    WatchEvent created = changes.get(0);
    WatchEvent deleted = changes.get(1);
    assertEquals(EventType.NODE_CREATED, created.getType(), () -> "first change: " + created);
    assertEquals(NodeKind.EPHEMERAL, created.getStat().getKind(), () -> "created: " + created);
    assertEquals(EventType.NODE_DELETED, deleted.getType(), () -> "second change: " + deleted);
    long session = created.getStat().getEphemeralOwner();
    long createZxid = created.getZxid();
    long closeZxid = deleted.getZxid();

    assertFalse(call().exists(ExistsRequest.newBuilder().setPath(path).build()).getExists(),
        path + " still exists");
    assertEquals(0, call().status(StatusRequest.getDefaultInstance()).getSessionCount(),
        "the example's session is still open");

    // What the example printed agrees with that record, line by line.
    List<String> expected = List.of(
        "connected to " + server.target(),
        "session opened: id=" + session + " timeout_ms=10000",
        "created ephemeral " + path + " (zxid " + createZxid + ", owner session " + session + ")",
        "watching " + path + " from zxid " + (createZxid - 1),
        "event NODE_CREATED " + path + " (zxid " + createZxid + ")",
        "session ended: CLOSED (zxid " + closeZxid + ")",
        "event NODE_DELETED " + path + " (zxid " + closeZxid + ")",
        "exists " + path + ": false",
        "OK: the ephemeral node disappeared when its session closed");
    List<String> lines = run.lines();
    int first = lines.indexOf(expected.get(0));
    List<String> printed = first < 0 ? lines : lines.subList(first, lines.size());
    assertEquals(expected, printed, () -> client + " printed:\n" + run.output());
  }
}
