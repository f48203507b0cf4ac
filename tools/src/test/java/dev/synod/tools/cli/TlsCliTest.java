package dev.synod.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.server.SynodNode;
import dev.synod.server.tls.TestPki;
import dev.synod.server.tls.TlsNodes;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The global --tls-ca, --tls-cert and --tls-key options against a server with mutual TLS. */
class TlsCliTest {
  @TempDir Path dir;

  @Test
  void connectsWithItsCertificateAndSaysWhyNotWithout() throws Exception {
    TestPki.Issued ca = TestPki.ca("ca");
    Path caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    TestPki.Files2 server = TestPki.leaf(ca, "server", "IP:127.0.0.1").write(dir, "server");
    TestPki.Files2 cli = TestPki.leaf(ca, "cli").write(dir, "cli");
    try (SynodNode node = TlsNodes.start(dir.resolve("data"), "--tls-cert", server.cert().toString(),
        "--tls-key", server.key().toString(), "--tls-client-ca", caFile.toString())) {
      CliRunner synod = new CliRunner("127.0.0.1:" + node.port(), dir.resolve("history"));
      String[] tls = {"--tls-ca", caFile.toString(), "--tls-cert", cli.cert().toString(),
          "--tls-key", cli.key().toString()};
      CliRunner.Result created = synod.run(concat(tls, "create", "/secure", "over-tls"));
      assertEquals(0, created.code(), created.err());
      CliRunner.Result got = synod.run(concat(tls, "get", "/secure"));
      assertEquals(0, got.code(), got.err());
      assertTrue(got.out().contains("over-tls"), got.out());
      CliRunner.Result status = synod.run(concat(tls, "status")); // opens channels of its own
      assertEquals(0, status.code(), status.err());
      assertTrue(status.out().contains("leader"), status.out());

      CliRunner.Result plain = synod.run("--connect-timeout", "1s", "get", "/secure");
      assertEquals(ExitCodes.UNAVAILABLE, plain.code());
      assertTrue(plain.err().contains("--tls-ca"), plain.err());
      CliRunner.Result noKey = synod.run("--tls-ca", caFile.toString(), "--tls-cert", cli.cert().toString(),
          "get", "/secure");
      assertEquals(ExitCodes.USAGE, noKey.code());
      CliRunner.Result missing = synod.run("--tls-ca", dir.resolve("nope.pem").toString(), "get", "/secure");
      assertEquals(ExitCodes.USAGE, missing.code());
      assertTrue(missing.err().contains("nope.pem"), missing.err());
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
