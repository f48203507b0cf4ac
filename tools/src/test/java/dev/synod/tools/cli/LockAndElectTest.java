package dev.synod.tools.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.synod.client.SynodClient;
import dev.synod.client.recipes.LeaderLatch;
import dev.synod.client.recipes.Lease;
import dev.synod.client.recipes.Mutex;
import dev.synod.testing.Eventually;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code lock} and {@code elect}: a command run under a lock or leadership, its exit code and fencing token. */
class LockAndElectTest extends OneServerCliTest {
  private static final Pattern TOKEN = Pattern.compile("token=(\\d+)");

  static SynodClient other;

  @BeforeAll
  static void connectOther() throws Exception {
    other = SynodClient.builder().connectString(server.address()).build().start();
    assertTrue(other.blockUntilConnected(Duration.ofSeconds(5)));
  }

  @AfterAll
  static void closeOther() {
    if (other != null) {
      other.close();
    }
  }

  static long token(String out) {
    Matcher m = TOKEN.matcher(out);
    assertTrue(m.find(), out);
    return Long.parseLong(m.group(1));
  }

  @Test
  void lockRunsTheCommandWithItsTokenAndExitCode() {
    CliRunner.Result r = cli.run("lock", "/locks/a", "--", "sh", "-c", "echo token=$SYNOD_FENCING_TOKEN; exit 7");
    assertEquals(7, r.code(), r.err());
    long token = token(r.out());
    assertTrue(token > 0);
    assertEquals("synod: holding lock /locks/a (fencing token " + token + ")\n", r.err());
    CliRunner.Result again = cli.run("lock", "/locks/a", "--", "sh", "-c", "echo token=$SYNOD_FENCING_TOKEN");
    assertEquals(0, again.code(), again.err());
    assertTrue(token(again.out()) > token, "a later holder has a larger token");
  }

  @Test
  void lockWaitsForTheHolderOrTimesOut() throws Exception {
    Lease held = new Mutex(other, "/locks/b").acquire();
    CliRunner.Result r = cli.run("lock", "--timeout", "300ms", "/locks/b", "--", "true");
    assertEquals(ExitCodes.NOT_ACQUIRED, r.code());
    assertEquals("synod: lock /locks/b not acquired within 300 ms\n", r.err());
    CompletableFuture<CliRunner.Result> waiting =
        CompletableFuture.supplyAsync(() -> cli.run("lock", "/locks/b", "--json", "--", "true"));
    Thread.sleep(200); // a negative check: nothing to wait for while the lock is held elsewhere
    assertFalse(waiting.isDone(), "waits while another session holds the lock");
    held.close();
    CliRunner.Result got = waiting.get(10, TimeUnit.SECONDS);
    assertEquals(0, got.code(), got.err());
    JsonObject o = JsonParser.parseString(got.out().lines().findFirst().orElseThrow()).getAsJsonObject();
    assertEquals("/locks/b", o.get("path").getAsString());
    assertTrue(o.get("node").getAsString().startsWith("/locks/b/"), o.toString());
    assertTrue(o.get("fencing_token").getAsLong() > held.fencingToken());
  }

  @Test
  void aLostLockStopsTheCommand() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CliRunner.SyncBuffer err = new CliRunner.SyncBuffer();
    long start = System.nanoTime();
    CompletableFuture<Integer> code = CompletableFuture.supplyAsync(
        () -> cli.runTo("", out, err, "lock", "/locks/c", "--", "sleep", "30"));
    Eventually.eventually(Duration.ofSeconds(10), "the lock to be taken",
        () -> other.exists("/locks/c") != null && !other.getChildren("/locks/c").isEmpty());
    List<String> holders = other.getChildren("/locks/c");
    other.delete("/locks/c/" + holders.get(0), -1); // an operator deletes the holder's node
    assertEquals(ExitCodes.LOST, code.get(10, TimeUnit.SECONDS), err.toString());
    assertTrue(err.toString().contains("synod: lock /locks/c lost while the command ran"), err.toString());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "the command was stopped, not waited for");
    assertEquals("", out.toString(UTF_8));
  }

  @Test
  void aCommandThatCannotRunIsAUsageError() {
    CliRunner.Result r = cli.run("lock", "/locks/d", "--", "/no/such/program");
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("cannot run /no/such/program"), r.err());
    assertEquals(ExitCodes.USAGE, cli.run("lock", "/locks/d").code(), "a command is required");
    assertTrue(other.exists("/locks/d") == null || other.getChildren("/locks/d").isEmpty(), "released after the failure");
  }

  @Test
  void electRunsTheCommandWhileLeading() throws Exception {
    CliRunner.Result r = cli.run("elect", "/election/a", "me", "--", "sh", "-c", "echo token=$SYNOD_FENCING_TOKEN");
    assertEquals(0, r.code(), r.err());
    long token = token(r.out());
    assertEquals("synod: leader of /election/a as me (fencing token " + token + ")\n", r.err());

    try (LeaderLatch boss = new LeaderLatch(other, "/election/a", "boss")) {
      boss.start();
      assertTrue(boss.await(Duration.ofSeconds(5)));
      CliRunner.Result waited = cli.run("elect", "--timeout", "400ms", "/election/a", "me", "--", "true");
      assertEquals(ExitCodes.NOT_ACQUIRED, waited.code());
      assertTrue(waited.err().contains("waiting to lead /election/a (leader now: boss)"), waited.err());
      assertTrue(waited.err().contains("synod: not leader of /election/a within 400 ms"), waited.err());
    }
    CliRunner.Result json = cli.run("elect", "--json", "/election/a", "me", "--", "sh", "-c", "exit 3");
    assertEquals(3, json.code(), json.err());
    JsonObject o = JsonParser.parseString(json.out().lines().findFirst().orElseThrow()).getAsJsonObject();
    assertEquals("me", o.get("leader").getAsString());
    assertTrue(o.get("fencing_token").getAsLong() > token);
  }
}
