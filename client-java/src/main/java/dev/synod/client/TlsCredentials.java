package dev.synod.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The channel credentials of a Synod client: plaintext without a CA bundle; TLS trusting the CAs
 * of a PEM bundle (the server's certificate must name the host dialled); mutual TLS when a client
 * certificate chain and its unencrypted PKCS#8 key are given too. {@link SynodClient.Builder}
 * uses it; so can tools that open their own channels.
 */
public final class TlsCredentials {
  private TlsCredentials() {}

  /**
   * @param caBundle PEM CA certificates, or null for plaintext
   * @param certChain PEM client certificate chain, or null for none
   * @param privateKey the client certificate's PEM private key (with {@code certChain})
   * @throws IllegalArgumentException a client certificate without a CA bundle or without its key,
   *     or a file that cannot be read or parsed (the message names it)
   */
  public static ChannelCredentials of(Path caBundle, Path certChain, Path privateKey) {
    if ((certChain == null) != (privateKey == null)) {
      throw new IllegalArgumentException("a TLS client certificate and its private key go together");
    }
    if (caBundle == null) {
      if (certChain != null) {
        throw new IllegalArgumentException("a TLS client certificate needs a CA bundle");
      }
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
    Path reading = caBundle;
    try {
      tls.trustManager(caBundle.toFile());
      if (certChain != null) {
        reading = certChain;
        tls.keyManager(certChain.toFile(), privateKey.toFile());
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("TLS: cannot read " + reading
          + (reading == certChain ? " or " + privateKey : "") + ": " + e.getMessage(), e);
    }
    return tls.build();
  }
}
