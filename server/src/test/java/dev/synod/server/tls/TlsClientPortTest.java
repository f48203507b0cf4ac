package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.StreamClient;
import dev.synod.server.SynodNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client port over TLS and mutual TLS, on real loopback sockets. */
class TlsClientPortTest {
  @TempDir Path dir;
  private TestPki.Issued ca;
  private Path caFile;
  private TestPki.Files2 server;

  @BeforeEach
  void pki() throws Exception {
    ca = TestPki.ca("Synod test CA");
    caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    server = TestPki.leaf(ca, "synod-server", "IP:127.0.0.1", "DNS:localhost").write(dir, "server");
  }

  private SynodNode tlsServer(String name, TestPki.Files2 cert, String... more) throws Exception {
    List<String> flags = new java.util.ArrayList<>(List.of("--tls-cert", cert.cert().toString(),
        "--tls-key", cert.key().toString()));
    flags.addAll(List.of(more));
    return TlsNodes.start(dir.resolve(name), flags.toArray(String[]::new));
  }

  @Test
  void tlsClientIsServedAndAPlaintextClientFailsCleanly() throws Exception {
    try (SynodNode node = tlsServer("data", server)) {
      ManagedChannel tls = TlsNodes.tls(node.port(), caFile, null);
      ManagedChannel plain = TlsNodes.plaintext(node.port());
      try {
        assertTrue(TlsNodes.status(tls).getLastZxid() >= 0);
        // A plaintext client gets UNAVAILABLE promptly (not a hang until its deadline), and the
        // server goes on serving TLS clients.
        long start = System.nanoTime();
        StatusRuntimeException e = TlsNodes.statusFails(plain);
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 9, "failed only at the deadline");
        assertTrue(TlsNodes.status(tls).getLastZxid() >= 0);
      } finally {
        TlsNodes.shutdown(tls, plain);
      }
    }
  }

  @Test
  void aClientTrustingAnotherCaRefusesTheServer() throws Exception {
    Path otherCa = dir.resolve("other-ca.pem");
    TestPki.writeCerts(otherCa, TestPki.ca("Some other CA").cert());
    try (SynodNode node = tlsServer("data", server)) {
      ManagedChannel c = TlsNodes.tls(node.port(), otherCa, null);
      try {
        assertEquals(Status.Code.UNAVAILABLE, TlsNodes.statusFails(c).getStatus().getCode());
      } finally {
        TlsNodes.shutdown(c);
      }
    }
  }

  @Test
  void aServerCertificateForAnotherHostIsRefused() throws Exception {
    TestPki.Files2 elsewhere = TestPki.leaf(ca, "elsewhere", "DNS:db9.example").write(dir, "elsewhere");
    try (SynodNode node = tlsServer("data", elsewhere)) {
      ManagedChannel c = TlsNodes.tls(node.port(), caFile, null);
      try {
        assertEquals(Status.Code.UNAVAILABLE, TlsNodes.statusFails(c).getStatus().getCode());
      } finally {
        TlsNodes.shutdown(c);
      }
    }
  }

  @Test
  void expiredAndNotYetValidServerCertificatesAreRefusedByClients() throws Exception {
    Instant now = Instant.now();
    TestPki.Files2 expired = TestPki.leaf(ca, "expired", now.minus(Duration.ofDays(2)),
        now.minus(Duration.ofDays(1)), TestPki.ec(), "IP:127.0.0.1").write(dir, "expired");
    TestPki.Files2 future = TestPki.leaf(ca, "future", now.plus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(2)), TestPki.ec(), "IP:127.0.0.1").write(dir, "future");
    for (TestPki.Files2 cert : List.of(expired, future)) {
      try (SynodNode node = tlsServer("data-" + cert.cert().getFileName(), cert)) {
        ManagedChannel c = TlsNodes.tls(node.port(), caFile, null);
        try {
          assertEquals(Status.Code.UNAVAILABLE, TlsNodes.statusFails(c).getStatus().getCode(), cert.cert().toString());
        } finally {
          TlsNodes.shutdown(c);
        }
      }
    }
  }

  @Test
  void mutualTlsTakesOnlyValidCertificatesOfTheClientCa() throws Exception {
    TestPki.Issued clientCa = TestPki.ca("Synod client CA");
    Path clientCaFile = dir.resolve("client-ca.pem");
    TestPki.writeCerts(clientCaFile, clientCa.cert());
    Instant now = Instant.now();
    TestPki.Files2 alice = TestPki.leaf(clientCa, "alice", "DNS:alice.example").write(dir, "alice");
    TestPki.Files2 stranger = TestPki.leaf(TestPki.ca("Stranger CA"), "mallory").write(dir, "mallory");
    TestPki.Files2 expired = TestPki.leaf(clientCa, "old", now.minus(Duration.ofDays(2)),
        now.minus(Duration.ofDays(1)), TestPki.ec()).write(dir, "old");
    TestPki.Files2 future = TestPki.leaf(clientCa, "early", now.plus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(2)), TestPki.ec()).write(dir, "early");
    // An RSA server certificate here, so both key types are served.
    TestPki.Files2 rsaServer = TestPki.leaf(ca, "synod-rsa", now.minus(Duration.ofHours(1)),
        now.plus(Duration.ofDays(1)), TestPki.rsa(), "IP:127.0.0.1").write(dir, "server-rsa");
    try (SynodNode node = tlsServer("data", rsaServer, "--tls-client-ca", clientCaFile.toString())) {
      ManagedChannel ok = TlsNodes.tls(node.port(), caFile, alice);
      ManagedChannel none = TlsNodes.tls(node.port(), caFile, null);
      ManagedChannel foreign = TlsNodes.tls(node.port(), caFile, stranger);
      ManagedChannel old = TlsNodes.tls(node.port(), caFile, expired);
      ManagedChannel early = TlsNodes.tls(node.port(), caFile, future);
      try {
        assertTrue(TlsNodes.status(ok).getLastZxid() >= 0);
        for (ManagedChannel refused : List.of(none, foreign, old, early)) {
          assertEquals(Status.Code.UNAVAILABLE, TlsNodes.statusFails(refused).getStatus().getCode());
        }
        assertTrue(TlsNodes.status(ok).getLastZxid() >= 0);
      } finally {
        TlsNodes.shutdown(ok, none, foreign, old, early);
      }
    }
  }

  /**
   * The certificate files are replaced while a client holds a session stream: its connection
   * goes on (heartbeats answered, no new handshake), and a new connection gets the new certificate.
   */
  @Test
  void rotationReachesNewHandshakesWhileConnectedClientsStay() throws Exception {
    try (SynodNode node = tlsServer("data", server)) {
      Recording seen = new Recording(caFile);
      ManagedChannel before = TlsNodes.tls(node.port(), seen);
      StreamClient stream = StreamClient.open(before, 10_000);
      BigInteger oldSerial = seen.serials.get(0);
      assertEquals(1, seen.serials.size());

      TestPki.Issued next = TestPki.leaf(ca, "synod-server-2", "IP:127.0.0.1");
      // The careful order: key first, then certificate; between the two the server keeps the old
      // pair (the new key does not match the old certificate).
      TestPki.writeKey(server.key(), next.keys());
      TestPki.writeCerts(server.cert(), next.cert());

      Recording seenAfter = new Recording(caFile);
      ManagedChannel after = TlsNodes.tls(node.port(), seenAfter);
      try {
        assertTrue(TlsNodes.status(after).getLastZxid() >= 0);
        assertEquals(List.of(next.cert().getSerialNumber()), seenAfter.serials);
        assertFalse(oldSerial.equals(next.cert().getSerialNumber()));
        // The old connection still works, and never handshook again.
        assertTrue(stream.heartbeat(7).getConfirmed());
        assertTrue(TlsNodes.status(before).getLastZxid() >= 0);
        assertEquals(List.of(oldSerial), seen.serials);
      } finally {
        stream.close();
        TlsNodes.shutdown(before, after);
      }
    }
  }

  /** Trusts the CA bundle and records the serial of every server certificate it checked. */
  static final class Recording extends X509ExtendedTrustManager {
    final List<BigInteger> serials = new CopyOnWriteArrayList<>();
    private final ReloadingTrustManager trust;

    Recording(Path caFile) throws Exception {
      trust = new ReloadingTrustManager(caFile, "test CA");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      serials.add(chain[0].getSerialNumber());
      trust.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      serials.add(chain[0].getSerialNumber());
      trust.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      serials.add(chain[0].getSerialNumber());
      trust.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
