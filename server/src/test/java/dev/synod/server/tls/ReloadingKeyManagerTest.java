package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rotation caught halfway, or a file being written, never replaces a working pair. */
class ReloadingKeyManagerTest {
  @TempDir Path dir;

  @Test
  void keepsTheWorkingPairUntilTheNewOneIsWholeAndMatches() throws Exception {
    TestPki.Issued ca = TestPki.ca("ca");
    TestPki.Issued first = TestPki.leaf(ca, "first");
    TestPki.Files2 files = first.write(dir, "server");
    ReloadingKeyManager keys = new ReloadingKeyManager(files.cert(), files.key(), "test");
    assertEquals(first.cert(), keys.certificate());

    TestPki.Issued second = TestPki.leaf(ca, "second");
    TestPki.writeCerts(files.cert(), second.cert()); // the certificate first: the key does not match yet
    assertEquals(first.cert(), keys.certificate());
    Files.writeString(files.key(), "-----BEGIN PRIVATE KEY-----\nMIIB"); // a key half written
    assertEquals(first.cert(), keys.certificate());
    TestPki.writeKey(files.key(), second.keys());
    assertEquals(second.cert(), keys.certificate());
    String alias = keys.chooseEngineServerAlias("EC", null, null);
    assertEquals(second.keys().getPrivate(), keys.getPrivateKey(alias));
    assertEquals(second.cert(), keys.getCertificateChain(alias)[0]);
  }
}
