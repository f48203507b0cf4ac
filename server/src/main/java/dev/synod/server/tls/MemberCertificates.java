package dev.synod.server.tls;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Peer port: which members a peer's certificate speaks for, and the refusal of every other caller.
 *
 * <p>The rule. The handshake has already checked the certificate chains to {@code --peer-tls-ca}
 * and is within its dates. It is then <em>member N's</em> when one of its subject alternative
 * names is the host of member N's address in {@code --members}: an IP SAN equal to an IP host, or
 * a DNS SAN equal (ignoring case) to a DNS host. No wildcards, no DNS lookups, the subject CN is
 * not read. A certificate that is no member's gets PERMISSION_DENIED on every peer call; a
 * member's may send only envelopes whose {@code from} is a member it speaks for (members that
 * share a host, as on loopback, speak for each other). The same rule holds outbound: a peer link
 * verifies the server's certificate against the host it dials, as HTTPS does.
 *
 * <p>Without peer TLS (loopback, or {@code --allow-plaintext}) calls pass unchecked.
 */
public final class MemberCertificates implements ServerInterceptor {
  private static final Context.Key<SortedSet<Integer>> SENDERS = Context.key("synod-peer-members");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final long WARN_INTERVAL_MS = 10_000;

  private final SortedMap<Integer, String> memberAddresses;
  private final boolean tlsRequired;
  private volatile long lastWarnMs;

  /**
   * @param memberAddresses every member's {@code host:port}, by id
   * @param tlsRequired peer TLS is configured: a call without a verified certificate is refused
   */
  public MemberCertificates(SortedMap<Integer, String> memberAddresses, boolean tlsRequired) {
    this.memberAddresses = memberAddresses;
    this.tlsRequired = tlsRequired;
  }

  /**
   * Whether an envelope from member {@code from} may be taken on the call being served: always
   * without peer TLS, else only from a member the caller's certificate speaks for. Read it at the
   * start of the call (the context of a stream's messages is the call's).
   */
  public static boolean allowsSender(int from) {
    SortedSet<Integer> senders = SENDERS.get();
    return senders == null || senders.contains(from);
  }

  /** The members whose peer certificate this is (empty: none). */
  public SortedSet<Integer> membersOf(X509Certificate cert) {
    SortedSet<Integer> out = new TreeSet<>();
    for (ClientCertificate.San san : ClientCertificate.subjectAltNames(cert)) {
      for (Map.Entry<Integer, String> m : memberAddresses.entrySet()) {
        if (names(san, host(m.getValue()))) {
          out.add(m.getKey());
        }
      }
    }
    return out;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      if (!tlsRequired) {
        return next.startCall(call, headers);
      }
      return refuse(call, Status.UNAUTHENTICATED.withDescription("the peer port takes only mutual TLS"));
    }
    Optional<X509Certificate> leaf = leaf(session);
    if (leaf.isEmpty()) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("the peer port needs a member's certificate"));
    }
    SortedSet<Integer> members = membersOf(leaf.get());
    if (members.isEmpty()) {
      warn("refused a peer whose certificate " + ReloadingKeyManager.describe(leaf.get())
          + " names no member's host (from " + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR) + ")");
      return refuse(call, Status.PERMISSION_DENIED.withDescription(
          "this certificate is not a member's: none of its subject alternative names is a member's host"));
    }
    Context ctx = Context.current().withValue(SENDERS, Collections.unmodifiableSortedSet(members));
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private void warn(String message) {
    long now = System.currentTimeMillis();
    if (now - lastWarnMs >= WARN_INTERVAL_MS) {
      lastWarnMs = now;
      org.slf4j.LoggerFactory.getLogger("dev.synod.server.tls").warn("tls: " + message);
    }
  }

  private static Optional<X509Certificate> leaf(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate x) {
        return Optional.of(x);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no certificate
    }
    return Optional.empty();
  }

  /** The host of {@code host:port} or {@code [v6]:port}. */
  static String host(String address) {
    String host = address.substring(0, Math.max(0, address.lastIndexOf(':')));
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host;
  }

  private static boolean names(ClientCertificate.San san, String host) {
    Optional<InetAddress> hostIp = ipLiteral(host);
    if (san.kind() == ClientCertificate.Kind.IP) {
      Optional<InetAddress> sanIp = ipLiteral(san.value());
      return hostIp.isPresent() && sanIp.isPresent() && hostIp.get().equals(sanIp.get());
    }
    if (san.kind() == ClientCertificate.Kind.DNS) {
      return hostIp.isEmpty() && san.value().toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT));
    }
    return false;
  }

  /** An IP address written as one, parsed without any name lookup; empty for a host name. */
  static Optional<InetAddress> ipLiteral(String text) {
    if (IPV4.matcher(text).matches()) {
      for (String octet : text.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return Optional.empty(); // not an address, and getByName would look it up as a name
        }
      }
    } else if (!text.contains(":")) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(text)); // a literal: no lookup
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }
}
