package dev.synod.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Quota;
import dev.synod.client.recipes.Lease;
import dev.synod.client.recipes.Mutex;
import dev.synod.server.auth.DigestAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK's credentials: on the builder, addAuth, kept across failover and resume; recipes' ACLs. */
class AuthClientTest {
  @TempDir
  Path dir;

  private static Acl digestAcl(String userPassword, int perms) {
    return Acl.newBuilder().setScheme("digest").setId(DigestAuth.digest(userPassword)).setPerms(perms).build();
  }

  @Test
  void identitiesSurviveFailoverAndResume() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 3,
        "--superuser-digest", DigestAuth.digest("root:rootpw"));
        SynodClient alice = SynodClient.builder().connectString(cluster.connectString())
            .sessionTimeout(Duration.ofSeconds(6)).digest("alice", "alicepw").build().start();
        SynodClient anon = SynodClient.builder().connectString(cluster.connectString()).build().start()) {
      assertTrue(alice.blockUntilConnected(Duration.ofSeconds(10)));
      assertTrue(anon.blockUntilConnected(Duration.ofSeconds(10)));
      alice.create("/a", "mine".getBytes(UTF_8),
          CreateOptions.PERSISTENT.withAcl(List.of(digestAcl("alice:alicepw", 31))));
      NoAuthException denied = assertThrows(NoAuthException.class, () -> anon.getData("/a"));
      assertEquals("/a", denied.path());
      anon.addAuth("digest", "alice:alicepw".getBytes(UTF_8));
      assertArrayEquals("mine".getBytes(UTF_8), anon.getData("/a").data());
      assertThrows(AuthFailedException.class, () -> anon.addAuth("digest", "root:wrong".getBytes(UTF_8)));

      // Kill the server both are on: they resume elsewhere, proving their identities again.
      long aliceSession = alice.sessionId();
      long anonSession = anon.sessionId();
      int victim = cluster.idOfPort(anon.currentServer().getPort());
      cluster.stop(victim);
      alice.setData("/a", "again".getBytes(UTF_8), -1);
      assertArrayEquals("again".getBytes(UTF_8), anon.getData("/a").data());
      assertNotEquals(victim, cluster.idOfPort(anon.currentServer().getPort()));
      assertEquals(aliceSession, alice.sessionId());
      assertEquals(anonSession, anon.sessionId(), "the same session, resumed");

      // A recipe with an ACL: the lock's nodes are alice's alone.
      try (Lease lease = new Mutex(alice, "/locks/x",
          List.of(digestAcl("alice:alicepw", 31))).acquire()) {
        assertTrue(lease.fencingToken() > 0);
        assertEquals(List.of(digestAcl("alice:alicepw", 31)), alice.getAcl("/locks/x"));
      }
    }
  }

  @Test
  void wrongCredentialsFailRequestsInsteadOfRetryingForever() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 1,
        "--superuser-digest", DigestAuth.digest("root:rootpw"));
        SynodClient bad = SynodClient.builder().connectString(cluster.connectString())
            .digest("root", "not-the-password").build().start()) {
      AuthFailedException e = assertThrows(AuthFailedException.class, () -> bad.getData("/"));
      assertFalse(e.getMessage().contains("not-the-password"), e.getMessage());
      assertFalse(bad.blockUntilConnected(Duration.ofMillis(200)));
    }
  }

  @Test
  void quotasThroughTheClient() throws Exception {
    try (LocalServers cluster = new LocalServers(dir, 1,
        "--superuser-digest", DigestAuth.digest("root:rootpw"));
        SynodClient root = SynodClient.builder().connectString(cluster.connectString())
            .digest("root", "rootpw").build().start()) {
      root.create("/q", new byte[0], CreateOptions.PERSISTENT.withAcl(List.of(
          Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1 | 4 | 8).build())));
      assertEquals(1, root.setQuota("/q", Quota.newBuilder().setCountHard(2).build()).getCount());
      root.create("/q/a", new byte[0], CreateOptions.of(NodeKind.PERSISTENT));
      assertThrows(QuotaExceededException.class, () -> root.create("/q/b", new byte[0]));
      assertEquals(2, root.getQuota("/q").getUsage().getCount());
      try (SynodClient anon = SynodClient.builder().connectString(cluster.connectString()).build().start()) {
        assertThrows(NoAuthException.class, () -> anon.setQuota("/q", Quota.getDefaultInstance()));
      }
    }
  }
}
