package dev.synod.server.grpc;

import dev.synod.api.v1.Credential;
import dev.synod.server.auth.Authenticator;
import dev.synod.server.auth.Identities;
import dev.synod.server.state.SynodException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;

/**
 * Establishes who makes each call before the service sees it: the connection's identities
 * ({@link ConnectionIdentities}: address, client certificate) plus those the credentials in the
 * {@code synod-auth} headers prove ("digest:user:password", one header per credential). Wrong
 * credentials end the call with AUTH_FAILED before it reaches the service. The result is in
 * {@link #IDENTITIES} of the call's gRPC context, where the unary calls, the Watch stream and the
 * session stream (which adds what its open/resume and add_auth prove) find it.
 */
public final class AuthInterceptor implements ServerInterceptor {
  public static final Metadata.Key<String> AUTH_HEADER =
      Metadata.Key.of("synod-auth", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<Identities> IDENTITIES = Context.key("synod-identities");

  private final Authenticator authenticator;
  private final ConnectionIdentities connection;

  public AuthInterceptor(Authenticator authenticator, ConnectionIdentities connection) {
    this.authenticator = authenticator;
    this.connection = connection;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Identities who;
    try {
      Identities base = Identities.of(connection.of(call.getAttributes()));
      Iterable<String> values = headers.getAll(AUTH_HEADER);
      List<Credential> credentials = new ArrayList<>();
      if (values != null) {
        for (String value : values) {
          credentials.add(Authenticator.parseHeader(value));
        }
      }
      who = base.plus(authenticator.proveAll(credentials));
    } catch (SynodException e) {
      StatusRuntimeException status = ErrorStatus.of(e.toError());
      call.close(status.getStatus(), status.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(IDENTITIES, who), call, headers, next);
  }

  /** Who makes the current call (anonymous outside an intercepted call, e.g. in tests). */
  static Identities current() {
    Identities who = IDENTITIES.get();
    return who == null ? Identities.ANONYMOUS : who;
  }
}
