package dev.synod.server.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * This server's certificate chain and private key, from two PEM files, re-read when either file
 * changes: every handshake first compares the files' stamps (one stat each) and, when they moved,
 * reads both again. A new pair is taken only if it parses and the key matches the certificate, so
 * a rotation caught halfway (the certificate written, the key not yet) keeps the previous pair
 * until both are in place. Connections already open keep the certificate they were made with.
 *
 * <p>It serves both sides of a handshake (the client port, the peer port, outbound peer links)
 * and always offers its one certificate, whatever the other side asks for: the other side decides.
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {
  private final Path certFile;
  private final Path keyFile;
  private final String what;
  private final Object reloadLock = new Object();
  private volatile Material current;
  private volatile Material previous;
  private volatile FileStamp stamp;
  private FileStamp warnedAbout;

  /** A certificate chain, its key, and a name that changes with every reload. */
  private record Material(String alias, X509Certificate[] chain, PrivateKey key) {}

  /**
   * Reads the pair now.
   *
   * @param what names the files in messages ("--tls-cert/--tls-key")
   * @throws GeneralSecurityException or IOException when the pair cannot be used: the server
   *     does not start with a certificate it cannot serve
   */
  public ReloadingKeyManager(Path certFile, Path keyFile, String what) throws IOException, GeneralSecurityException {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.what = what;
    this.stamp = FileStamp.of(certFile, keyFile);
    this.current = read(1);
  }

  /** The certificate new handshakes present (after checking the files). */
  public X509Certificate certificate() {
    return material().chain()[0];
  }

  private Material material() {
    FileStamp now = FileStamp.of(certFile, keyFile);
    if (!now.equals(stamp)) {
      synchronized (reloadLock) {
        if (!now.equals(stamp)) {
          Material before = current;
          try {
            Material next = read(generation(before) + 1);
            previous = before;
            current = next;
            stamp = now;
            org.slf4j.LoggerFactory.getLogger("dev.synod.server.tls").info("tls: " + what + " reloaded: now serving " + describe(next.chain()[0]));
          } catch (IOException | GeneralSecurityException | RuntimeException e) {
            // Keep serving the previous pair; look again at the next handshake (the stamp is not
            // taken, so a write still under way is read once it completes). Warn once per state.
            if (!now.equals(warnedAbout)) {
              warnedAbout = now;
              org.slf4j.LoggerFactory.getLogger("dev.synod.server.tls").warn("tls: " + what + " changed but cannot be used yet ("
                  + e.getMessage() + "); still serving " + describe(before.chain()[0]));
            }
          }
        }
      }
    }
    return current;
  }

  private static int generation(Material m) {
    return Integer.parseInt(m.alias().substring(m.alias().lastIndexOf('-') + 1));
  }

  private Material read(int generation) throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = PemFiles.certificates(certFile);
    PrivateKey key = PemFiles.privateKey(keyFile);
    requireMatch(key, chain.get(0).getPublicKey());
    return new Material("synod-" + generation, chain.toArray(X509Certificate[]::new), key);
  }

  /** Signs a probe with the key and checks it with the certificate's public key. */
  private void requireMatch(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
    if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
      throw new GeneralSecurityException(keyFile + " is a " + key.getAlgorithm() + " key but " + certFile
          + " holds a " + pub.getAlgorithm() + " certificate");
    }
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> key.getAlgorithm();
    };
    byte[] probe = "synod key check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(probe);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(pub);
    verifier.update(probe);
    if (!verifier.verify(signature)) {
      throw new GeneralSecurityException(keyFile + " is not the key of the certificate in " + certFile);
    }
  }

  static String describe(X509Certificate c) {
    return "'" + c.getSubjectX500Principal().getName() + "' (serial " + c.getSerialNumber().toString(16)
        + ", valid until " + c.getNotAfter().toInstant() + ")";
  }

  // --- X509ExtendedKeyManager: one certificate, whatever is asked for.

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return material().alias();
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return material().alias();
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return material().alias();
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return material().alias();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {material().alias()};
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[] {material().alias()};
  }

  /** The chain of the alias chosen (the one before a reload that came in between, too). */
  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Material m = byAlias(alias);
    return m == null ? null : m.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Material m = byAlias(alias);
    return m == null ? null : m.key();
  }

  private Material byAlias(String alias) {
    Material c = current;
    if (c.alias().equals(alias)) {
      return c;
    }
    Material p = previous;
    return p != null && p.alias().equals(alias) ? p : null;
  }
}
