package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.config.ConfigParser;
import dev.synod.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which settings may start (plaintext only on loopback unless asked), and whose certificate is a member's. */
class TlsSetupTest {
  @TempDir Path dir;

  private static ServerConfig config(String... flags) throws Exception {
    return ConfigParser.parse(flags);
  }

  @Test
  void plaintextBeyondLoopbackIsRefusedUnlessAskedFor() throws Exception {
    assertDoesNotThrow(() -> TlsSetup.load(config()));
    assertDoesNotThrow(() -> TlsSetup.load(config("--host", "localhost")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TlsSetup.load(config("--host", "0.0.0.0")));
    assertTrue(e.getMessage().contains("--allow-plaintext"), e.getMessage());
    assertDoesNotThrow(() -> TlsSetup.load(config("--host", "0.0.0.0", "--allow-plaintext")));
    assertDoesNotThrow(() -> TlsSetup.load(config("--host", "0.0.0.0", "--allow-plaintext", "true")));

    String remote = "1=10.1.2.3:7071,2=10.1.2.4:7071,3=10.1.2.5:7071";
    e = assertThrows(IllegalArgumentException.class, () -> TlsSetup.load(config("--members", remote)));
    assertTrue(e.getMessage().contains("peer"), e.getMessage());
    assertDoesNotThrow(() -> TlsSetup.load(config("--members", remote, "--allow-plaintext")));
    assertDoesNotThrow(() -> TlsSetup.load(config("--members", "1=127.0.0.1:7071,2=127.0.0.1:7081")));
  }

  @Test
  void theMetricsPortBeyondLoopbackIsRefusedUnlessAskedFor_evenWithClientTls() throws Exception {
    TestPki.Files2 cert = TestPki.leaf(TestPki.ca("ca"), "s", "IP:127.0.0.1").write(dir, "m");
    assertDoesNotThrow(() -> TlsSetup.load(config("--metrics-port", "0")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsSetup.load(config(
        "--host", "0.0.0.0", "--metrics-port", "0",
        "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString())));
    assertTrue(e.getMessage().contains("metrics") && e.getMessage().contains("--allow-plaintext"), e.getMessage());
    assertDoesNotThrow(() -> TlsSetup.load(config("--host", "0.0.0.0", "--metrics-port", "0",
        "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString(), "--allow-plaintext")));
  }

  @Test
  void clientTlsInAClusterNeedsPeerTls() throws Exception {
    TestPki.Files2 cert = TestPki.leaf(TestPki.ca("ca"), "s", "IP:127.0.0.1").write(dir, "s");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsSetup.load(config(
        "--members", "1=127.0.0.1:7071,2=127.0.0.1:7081",
        "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString())));
    assertTrue(e.getMessage().contains("--peer-tls-cert"), e.getMessage());
    TlsSetup single = TlsSetup.load(config("--host", "0.0.0.0",
        "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString()));
    assertTrue(single.clientTls());
    assertFalse(single.peerTls());
  }

  @Test
  void flagsThatGoTogetherAndUnreadableFilesAreRefused() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> config("--tls-cert", "a.pem"));
    assertThrows(IllegalArgumentException.class, () -> config("--tls-client-ca", "ca.pem"));
    assertThrows(IllegalArgumentException.class, () -> config("--peer-tls-cert", "a", "--peer-tls-key", "b"));
    assertThrows(IllegalArgumentException.class, () -> config("--allow-plaintext", "yes"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsSetup.load(config(
        "--tls-cert", dir.resolve("missing.pem").toString(), "--tls-key", dir.resolve("missing.key").toString())));
    assertTrue(e.getMessage().contains("missing.pem"), e.getMessage());
    TestPki.Files2 a = TestPki.leaf(TestPki.ca("ca"), "a").write(dir, "a");
    TestPki.Files2 b = TestPki.leaf(TestPki.ca("ca"), "b").write(dir, "b");
    e = assertThrows(IllegalArgumentException.class, () -> TlsSetup.load(config(
        "--tls-cert", a.cert().toString(), "--tls-key", b.key().toString())));
    assertTrue(e.getMessage().contains("not the key"), e.getMessage());
  }

  @Test
  void aMembersCertificateNamesItsConfiguredHost() throws Exception {
    SortedMap<Integer, String> members = new TreeMap<>();
    members.put(1, "10.0.0.1:7071");
    members.put(2, "DB2.example:7071");
    members.put(3, "[::1]:7071");
    members.put(4, "10.0.0.1:7072"); // shares member 1's host: one certificate speaks for both
    MemberCertificates rule = new MemberCertificates(members, true);
    TestPki.Issued ca = TestPki.ca("peer ca");
    assertEquals(Set.of(1, 4), rule.membersOf(TestPki.leaf(ca, "m1", "IP:10.0.0.1").cert()));
    assertEquals(Set.of(2), rule.membersOf(TestPki.leaf(ca, "m2", "DNS:db2.EXAMPLE").cert()));
    assertEquals(Set.of(3), rule.membersOf(TestPki.leaf(ca, "m3", "IP:0:0:0:0:0:0:0:1").cert()));
    // The CN is not read; wildcards and names of other hosts match nothing; an IP SAN never
    // matches a DNS host (no lookups).
    assertEquals(Set.of(), rule.membersOf(TestPki.leaf(ca, "db2.example").cert()));
    assertEquals(Set.of(), rule.membersOf(TestPki.leaf(ca, "w", "DNS:*.example").cert()));
    assertEquals(Set.of(), rule.membersOf(TestPki.leaf(ca, "x", "DNS:10.0.0.1", "IP:10.0.0.9").cert()));
  }
}
