package dev.synod.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.SynodNode;
import dev.synod.server.tls.TestPki;
import dev.synod.server.tls.TlsNodes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK over TLS and mutual TLS, against a real server on loopback. */
class TlsClientTest {
  @TempDir Path dir;

  @Test
  void connectsWithTheCaBundleAndItsClientCertificateOnly() throws Exception {
    TestPki.Issued ca = TestPki.ca("ca");
    Path caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    TestPki.Files2 server = TestPki.leaf(ca, "server", "IP:127.0.0.1").write(dir, "server");
    TestPki.Files2 alice = TestPki.leaf(ca, "alice").write(dir, "alice");
    try (SynodNode node = TlsNodes.start(dir.resolve("data"), "--tls-cert", server.cert().toString(),
        "--tls-key", server.key().toString(), "--tls-client-ca", caFile.toString())) {
      String at = "127.0.0.1:" + node.port();
      try (SynodClient c = SynodClient.builder().connectString(at).tlsCaBundle(caFile)
          .tlsClientCertificate(alice.cert(), alice.key()).build().start()) {
        assertTrue(c.blockUntilConnected(Duration.ofSeconds(10)));
        c.create("/tls", "yes".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("yes".getBytes(StandardCharsets.UTF_8), c.getData("/tls").data());
      }
      // Without its certificate, or in plaintext, it never connects.
      try (SynodClient noCert = SynodClient.builder().connectString(at).tlsCaBundle(caFile).build().start();
          SynodClient plain = SynodClient.builder().connectString(at).build().start()) {
        assertFalse(noCert.blockUntilConnected(Duration.ofSeconds(1)));
        assertFalse(plain.blockUntilConnected(Duration.ofMillis(200)));
      }
    }
    assertThrows(IllegalArgumentException.class, () -> SynodClient.builder().connectString("127.0.0.1:1")
        .tlsCaBundle(dir.resolve("missing.pem")).build());
    assertThrows(IllegalArgumentException.class, () -> SynodClient.builder().connectString("127.0.0.1:1")
        .tlsClientCertificate(dir.resolve("alice.pem"), dir.resolve("alice.key")).build());
  }
}
