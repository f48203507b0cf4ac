package dev.synod.server.grpc;

import dev.synod.api.v1.Identity;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import io.grpc.Attributes;
import io.grpc.Grpc;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What a connection itself proves about the client, handed by the transport to every call on it
 * (and so to a session's stream): the client's address ({@code ip}) and, over TLS with a client
 * certificate, the certificate's subject DN ({@code x509}, RFC 2253 form, e.g.
 * "CN=app,O=Example"). The default reads gRPC's transport attributes: the remote address and the
 * {@link SSLSession} that gRPC's Netty transport attaches once TLS is configured, so x509 works as
 * soon as the client port speaks mTLS; another transport (or a TLS setup that maps a SAN to the
 * identity) supplies its own.
 */
@FunctionalInterface
public interface ConnectionIdentities {
  List<Identity> of(Attributes transport);

  ConnectionIdentities DEFAULT = transport -> {
    List<Identity> ids = new ArrayList<>(2);
    SocketAddress remote = transport.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      ids.add(Identities.identity(Acls.IP, ipOf(inet.getAddress())));
    }
    SSLSession tls = transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (tls != null) {
      try {
        Certificate[] chain = tls.getPeerCertificates();
        if (chain.length > 0 && chain[0] instanceof X509Certificate cert) {
          ids.add(Identities.identity(Acls.X509, cert.getSubjectX500Principal().getName()));
        }
      } catch (SSLPeerUnverifiedException noClientCertificate) {
        // TLS without a client certificate proves no x509 identity
      }
    }
    return ids;
  };

  /** The address literal, without an IPv6 scope ("fe80::1%eth0" → "fe80:0:0:0:0:0:0:1"). */
  static String ipOf(InetAddress address) {
    String text = address.getHostAddress();
    int scope = text.indexOf('%');
    return scope < 0 ? text : text.substring(0, scope);
  }
}
