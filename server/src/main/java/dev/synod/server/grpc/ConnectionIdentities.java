package dev.synod.server.grpc;

import dev.synod.api.v1.Identity;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import dev.synod.server.tls.ClientCertificate;
import io.grpc.Attributes;
import io.grpc.Grpc;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What a connection itself proves about the client, handed by the transport to every call on it
 * (and so to a session's stream): the client's address ({@code ip}) and, over TLS with a client
 * certificate, its {@code x509} identity: the certificate's subject DN (RFC 2253 form, e.g.
 * "CN=app,O=Example"), or, as {@code --x509-identity} says, each of its subject alternative names
 * of one kind (e.g. the URI "spiffe://example.org/app"). The default reads gRPC's transport
 * attributes: the remote address and the {@link SSLSession} that gRPC's Netty transport attaches
 * once TLS is configured, so x509 works as soon as the client port speaks mTLS; another transport
 * supplies its own.
 */
@FunctionalInterface
public interface ConnectionIdentities {
  List<Identity> of(Attributes transport);

  /** The address, and the client certificate's subject DN as its x509 identity. */
  ConnectionIdentities DEFAULT = withX509("dn");

  /**
   * The address, and as x509 identities what {@code x509Identity} names of the client certificate:
   * "dn" its subject DN; "dns", "uri", "ip" or "email" every subject alternative name of that kind
   * (none: no x509 identity; the DN is not used instead, so an ACL written for SANs never matches a
   * certificate that lacks them by its subject).
   */
  static ConnectionIdentities withX509(String x509Identity) {
    ClientCertificate.Kind sanKind = x509Identity.equals("dn") ? null
        : ClientCertificate.Kind.valueOf(x509Identity.toUpperCase(Locale.ROOT));
    return transport -> {
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
            if (sanKind == null) {
              ids.add(Identities.identity(Acls.X509, cert.getSubjectX500Principal().getName()));
            } else {
              for (String san : ClientCertificate.of(cert).sans(sanKind)) {
                ids.add(Identities.identity(Acls.X509, san));
              }
            }
          }
        } catch (SSLPeerUnverifiedException noClientCertificate) {
          // TLS without a client certificate proves no x509 identity
        }
      }
      return ids;
    };
  }

  /** The address literal, without an IPv6 scope ("fe80::1%eth0" → "fe80:0:0:0:0:0:0:1"). */
  static String ipOf(InetAddress address) {
    String text = address.getHostAddress();
    int scope = text.indexOf('%');
    return scope < 0 ? text : text.substring(0, scope);
  }
}
