package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.auth.DigestAuth;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --auth, create --acl, getacl, setacl, addauth in the shell, quota, and their exit codes. */
class AuthCliTest {
  @TempDir static Path dir;
  static TestServer server;
  static CliRunner cli;

  @BeforeAll
  static void startServer() throws Exception {
    server = new TestServer(dir.resolve("server"), "--superuser-digest", DigestAuth.digest("root:rootpw"));
    cli = new CliRunner(server.address(), dir.resolve("history"));
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  private static void ok(CliRunner.Result r) {
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void aclsCredentialsAndExitCodes() {
    String bob = DigestAuth.digest("bob:bobpw");
    ok(cli.run("--auth", "digest:bob:bobpw", "create", "/bobs", "secret",
        "--acl", "digest:" + bob + ":cdrwa", "--acl", "world:anyone:c"));
    CliRunner.Result denied = cli.run("get", "/bobs");
    assertEquals(ExitCodes.NO_AUTH, denied.code(), denied.err());
    assertTrue(denied.err().contains("not authorized: /bobs"), denied.err());
    assertEquals(List.of("secret"), cli.run("--auth", "digest:bob:bobpw", "get", "/bobs").lines());
    assertEquals(List.of("digest:" + bob + ":cdrwa", "world:anyone:c"),
        cli.run("--auth", "digest:bob:bobpw", "getacl", "/bobs").lines());
    assertEquals(ExitCodes.NO_AUTH, cli.run("setacl", "/bobs", "world:anyone:cdrwa").code());
    ok(cli.run("--auth", "digest:root:rootpw", "setacl", "/bobs", "world:anyone:r", "-v", "0"));
    assertEquals(List.of("world:anyone:r"), cli.run("getacl", "/bobs").lines());
    assertEquals(ExitCodes.USAGE, cli.run("create", "/x", "--acl", "bogus:x:r").code());
    assertEquals(ExitCodes.USAGE, cli.run("create", "/x", "--acl", "world:anyone:q").code());

    CliRunner.Result refused = cli.run("--auth", "digest:root:wrongpw", "ls", "/");
    assertEquals(ExitCodes.AUTH_FAILED, refused.code(), refused.err());
    assertFalse(refused.err().contains("wrongpw"), refused.err());
  }

  @Test
  void addauthInTheShellLastsForTheSession() throws Exception {
    ok(cli.run("--auth", "digest:root:rootpw", "create", "/rootonly", "v", "--acl", "auth::cdrwa"));
    CliRunner.Result r = cli.runWithInput(String.join("\n", "get /rootonly",
        "addauth digest:root:rootpw", "get /rootonly", "exit", ""), "shell");
    assertTrue(r.out().contains("v"), r.out());
    assertTrue(r.err().contains("not authorized"), r.err());
    assertFalse(r.out().contains("rootpw") || r.err().contains("rootpw"), "the password is never echoed");
    // Nor written to the shell's history file (the other lines are kept there).
    String history = java.nio.file.Files.readString(dir.resolve("history"));
    assertTrue(history.contains("get /rootonly"), history);
    assertFalse(history.contains("rootpw"), history);
  }

  @Test
  void quotaSetGetDelete() {
    ok(cli.run("create", "/q"));
    ok(cli.run("quota", "set", "/q", "--count", "2", "--soft-bytes", "100"));
    assertEquals(List.of("count 1 (hard 2, soft none)", "bytes 0 (hard none, soft 100)"),
        cli.run("quota", "get", "/q").lines());
    ok(cli.run("create", "/q/a"));
    CliRunner.Result over = cli.run("create", "/q/b");
    assertEquals(ExitCodes.QUOTA_EXCEEDED, over.code(), over.err());
    ok(cli.run("quota", "delete", "/q"));
    assertEquals(List.of("no quota on /q"), cli.run("quota", "get", "/q").lines());
    ok(cli.run("create", "/q/b"));
  }
}
