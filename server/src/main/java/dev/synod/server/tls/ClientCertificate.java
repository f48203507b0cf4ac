package dev.synod.server.tls;

import io.grpc.Context;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The identity of a client that proved a certificate on the client port (mutual TLS,
 * {@code --tls-client-ca}): the verified leaf certificate's subject DN and subject alternative
 * names. {@link ClientCertificateInterceptor} puts it in the gRPC {@link Context} of every call on
 * such a connection, so anything on the request path (unary handlers and the Session stream's
 * message handlers, which run in their call's context) reads it with {@link #current()}.
 * Empty means no verified client certificate: plaintext, server-only TLS, or in-process.
 *
 * @param subjectDn the subject as RFC 2253 text ({@code CN=alice,O=Example}), as
 *     {@link javax.security.auth.x500.X500Principal#getName()} writes it
 * @param sans the subject alternative names of the kinds below, in certificate order
 */
public record ClientCertificate(String subjectDn, List<San> sans) {
  /** One subject alternative name; {@code value} as the JDK renders it (IPs as text). */
  public record San(Kind kind, String value) {}

  /** The SAN kinds kept (RFC 5280 GeneralName tags 1, 2, 6, 7); others are left out. */
  public enum Kind { EMAIL, DNS, URI, IP }

  static final Context.Key<ClientCertificate> CONTEXT_KEY = Context.key("synod-client-certificate");

  public ClientCertificate {
    sans = List.copyOf(sans);
  }

  /** The verified client certificate of the call being served, if it has one. */
  public static Optional<ClientCertificate> current() {
    return Optional.ofNullable(CONTEXT_KEY.get());
  }

  /** The values of one kind of SAN ({@code Kind.DNS}: the DNS names). */
  public List<String> sans(Kind kind) {
    List<String> out = new ArrayList<>();
    for (San s : sans) {
      if (s.kind() == kind) {
        out.add(s.value());
      }
    }
    return out;
  }

  /** The identity of a (verified) leaf certificate. */
  public static ClientCertificate of(X509Certificate leaf) {
    return new ClientCertificate(leaf.getSubjectX500Principal().getName(), subjectAltNames(leaf));
  }

  static List<San> subjectAltNames(X509Certificate cert) {
    List<San> out = new ArrayList<>();
    Collection<List<?>> names;
    try {
      names = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return out; // a verified certificate whose SAN extension does not parse names nothing
    }
    if (names == null) {
      return out;
    }
    for (List<?> name : names) {
      if (name.size() < 2 || !(name.get(0) instanceof Integer tag) || !(name.get(1) instanceof String value)) {
        continue;
      }
      Kind kind = switch (tag) {
        case 1 -> Kind.EMAIL;
        case 2 -> Kind.DNS;
        case 6 -> Kind.URI;
        case 7 -> Kind.IP;
        default -> null;
      };
      if (kind != null) {
        out.add(new San(kind, value));
      }
    }
    return out;
  }
}
