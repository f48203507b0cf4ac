package dev.synod.server.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads certificates and private keys from PEM files. Keys: unencrypted PKCS#8 ({@code BEGIN
 * PRIVATE KEY}, what {@code openssl genpkey} and {@code openssl req -newkey} write) of RSA, EC or
 * Ed25519, and PKCS#1 RSA keys ({@code BEGIN RSA PRIVATE KEY}). Anything else is refused with a
 * message saying how to convert it; a file is never half-read into use.
 */
public final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private PemFiles() {}

  /** Every certificate in the file, in order (a chain: leaf first; a bundle: any order). */
  public static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
    List<X509Certificate> out = new ArrayList<>();
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    for (Block b : blocks(file)) {
      if (b.type().equals("CERTIFICATE")) {
        out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
      }
    }
    if (out.isEmpty()) {
      throw new CertificateException(file + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    return out;
  }

  /** The one private key in the file. */
  public static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    for (Block b : blocks(file)) {
      switch (b.type()) {
        case "PRIVATE KEY":
          return pkcs8(file, b.der());
        case "RSA PRIVATE KEY":
          return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(wrapRsaPkcs1(b.der())));
        case "ENCRYPTED PRIVATE KEY":
          throw new InvalidKeySpecException(file + ": the key is encrypted; give an unencrypted PKCS#8 key"
              + " (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8) and protect the file instead");
        case "EC PRIVATE KEY":
          throw new InvalidKeySpecException(file + ": SEC1 EC keys are not read; convert to PKCS#8"
              + " (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)");
        default:
          break;
      }
    }
    throw new InvalidKeySpecException(file + ": no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
  }

  private static PrivateKey pkcs8(Path file, byte[] der) throws GeneralSecurityException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException notThisOne) {
        // try the next algorithm
      }
    }
    throw new InvalidKeySpecException(file + ": a PKCS#8 key of an algorithm other than RSA, EC or Ed25519");
  }

  /** PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL). */
  private static byte[] wrapRsaPkcs1(byte[] pkcs1) {
    byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
        0x01, 0x01, 0x05, 0x00};
    byte[] version = {0x02, 0x01, 0x00};
    byte[] octets = der(0x04, pkcs1);
    byte[] body = new byte[version.length + algorithm.length + octets.length];
    System.arraycopy(version, 0, body, 0, version.length);
    System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
    System.arraycopy(octets, 0, body, version.length + algorithm.length, octets.length);
    return der(0x30, body);
  }

  private static byte[] der(int tag, byte[] content) {
    int n = content.length;
    byte[] length;
    if (n < 0x80) {
      length = new byte[] {(byte) n};
    } else if (n < 0x100) {
      length = new byte[] {(byte) 0x81, (byte) n};
    } else if (n < 0x10000) {
      length = new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
    } else {
      length = new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
    }
    byte[] out = new byte[1 + length.length + n];
    out[0] = (byte) tag;
    System.arraycopy(length, 0, out, 1, length.length);
    System.arraycopy(content, 0, out, 1 + length.length, n);
    return out;
  }

  private record Block(String type, byte[] der) {}

  private static List<Block> blocks(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.ISO_8859_1);
    List<Block> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      try {
        out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new IOException(file + ": a PEM block that is not valid base64");
      }
    }
    return out;
  }
}
