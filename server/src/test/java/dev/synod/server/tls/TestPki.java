package dev.synod.server.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate authorities and certificates made in the test (BouncyCastle's builder, JDK keys):
 * any subject, SANs and validity window, written as the PEM files the server reads. EC P-256
 * keys by default (fast to make); RSA on request.
 */
public final class TestPki {
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

  private TestPki() {}

  /** A certificate and its key pair; {@code write} puts them in {@code name.pem} / {@code name.key}. */
  public record Issued(X509Certificate cert, KeyPair keys) {
    public Files2 write(Path dir, String name) throws IOException {
      Path cert = dir.resolve(name + ".pem");
      Path key = dir.resolve(name + ".key");
      writeCerts(cert, this.cert);
      writeKey(key, keys);
      return new Files2(cert, key);
    }
  }

  /** The two files of an issued certificate. */
  public record Files2(Path cert, Path key) {}

  /** A self-signed CA, valid from an hour ago for a day. */
  public static Issued ca(String cn) throws Exception {
    KeyPair keys = ec();
    Instant now = Instant.now();
    X500Name name = new X500Name("CN=" + cn);
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return new Issued(sign(b, keys), keys);
  }

  /** A leaf for TLS servers and clients, valid from an hour ago for a day. */
  public static Issued leaf(Issued ca, String cn, String... sans) throws Exception {
    Instant now = Instant.now();
    return leaf(ca, cn, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), ec(), sans);
  }

  /** A leaf valid from {@code notBefore} to {@code notAfter}; SANs as "DNS:name" or "IP:addr". */
  public static Issued leaf(Issued ca, String cn, Instant notBefore, Instant notAfter, KeyPair keys, String... sans)
      throws Exception {
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.cert(), serial(),
        Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + cn), keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    if (sans.length > 0) {
      List<GeneralName> names = new ArrayList<>();
      for (String san : sans) {
        if (san.startsWith("DNS:")) {
          names.add(new GeneralName(GeneralName.dNSName, san.substring(4)));
        } else if (san.startsWith("IP:")) {
          names.add(new GeneralName(GeneralName.iPAddress, san.substring(3)));
        } else if (san.startsWith("URI:")) {
          names.add(new GeneralName(GeneralName.uniformResourceIdentifier, san.substring(4)));
        } else {
          throw new IllegalArgumentException(san);
        }
      }
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    return new Issued(sign(b, ca.keys()), keys);
  }

  public static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  public static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair issuer)
      throws OperatorCreationException, GeneralSecurityException {
    String algorithm = issuer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder(algorithm).build(issuer.getPrivate())));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  /** Writes PEM certificates through a temp file and an atomic rename, as a careful operator would. */
  public static void writeCerts(Path file, X509Certificate... certs) throws IOException {
    StringBuilder out = new StringBuilder();
    for (X509Certificate c : certs) {
      try {
        out.append(pem("CERTIFICATE", c.getEncoded()));
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IOException(e);
      }
    }
    replace(file, out.toString());
  }

  public static void writeKey(Path file, KeyPair keys) throws IOException {
    replace(file, pem("PRIVATE KEY", keys.getPrivate().getEncoded())); // PKCS#8
  }

  public static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static void replace(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
