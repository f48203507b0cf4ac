package dev.synod.server.tls;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Client port: puts the verified client certificate of the connection, if any, into the call's
 * {@link Context} as a {@link ClientCertificate}. It decides nothing: the handshake already
 * refused certificates the client CA does not vouch for, and what an identity may do is for the
 * authentication and ACL checks that read it.
 */
public final class ClientCertificateInterceptor implements ServerInterceptor {
  /** The parsed identity is kept on the TLS session, so calls after the first do not parse again. */
  private static final String SESSION_VALUE = "synod.client-certificate";

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ClientCertificate identity = identity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (identity == null) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(ClientCertificate.CONTEXT_KEY, identity),
        call, headers, next);
  }

  static ClientCertificate identity(SSLSession session) {
    if (session == null) {
      return null;
    }
    Object cached = session.getValue(SESSION_VALUE);
    if (cached instanceof ClientCertificate c) {
      return c;
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException noClientCertificate) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return null;
    }
    ClientCertificate identity = ClientCertificate.of(leaf);
    try {
      session.putValue(SESSION_VALUE, identity);
    } catch (UnsupportedOperationException | IllegalArgumentException notKept) {
      // parsed again next call
    }
    return identity;
  }
}
