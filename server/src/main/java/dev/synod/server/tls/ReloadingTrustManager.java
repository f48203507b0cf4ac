package dev.synod.server.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts the certificate authorities of one PEM bundle, re-read when the file changes (checked at
 * every handshake, like {@link ReloadingKeyManager}; a bundle that does not parse keeps the
 * previous one). Chains are checked by the JDK's PKIX trust manager: signature, validity dates
 * (an expired or not-yet-valid certificate is refused), key usage and, on the side that connects,
 * the server's name against the address dialled.
 *
 * <p>It names no acceptable issuers in the handshake ({@link #getAcceptedIssuers()} is empty), so
 * a bundle changed after start never leaves a stale list in the server's certificate request;
 * clients send the one certificate they have.
 */
public final class ReloadingTrustManager extends X509ExtendedTrustManager {
  private final Path bundle;
  private final String what;
  private final Object reloadLock = new Object();
  private volatile X509ExtendedTrustManager delegate;
  private volatile FileStamp stamp;
  private FileStamp warnedAbout;

  /** Reads the bundle now; throws when it holds no usable certificate. */
  public ReloadingTrustManager(Path bundle, String what) throws IOException, GeneralSecurityException {
    this.bundle = bundle;
    this.what = what;
    this.stamp = FileStamp.of(bundle);
    this.delegate = read();
  }

  private X509ExtendedTrustManager delegate() {
    FileStamp now = FileStamp.of(bundle);
    if (!now.equals(stamp)) {
      synchronized (reloadLock) {
        if (!now.equals(stamp)) {
          try {
            delegate = read();
            stamp = now;
            org.slf4j.LoggerFactory.getLogger("dev.synod.server.tls").info("tls: " + what + " reloaded");
          } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (!now.equals(warnedAbout)) {
              warnedAbout = now;
              org.slf4j.LoggerFactory.getLogger("dev.synod.server.tls").warn("tls: " + what + " changed but cannot be used yet ("
                  + e.getMessage() + "); still trusting the previous bundle");
            }
          }
        }
      }
    }
    return delegate;
  }

  private X509ExtendedTrustManager read() throws IOException, GeneralSecurityException {
    List<X509Certificate> cas = PemFiles.certificates(bundle);
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    for (int i = 0; i < cas.size(); i++) {
      store.setCertificateEntry("ca-" + i, cas.get(i));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("the JDK offers no X509ExtendedTrustManager");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate().checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate().checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate().checkServerTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate().checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate().checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
