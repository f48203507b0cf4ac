package dev.synod.server.grpc;

import dev.synod.server.observe.ServerMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts and times every unary call of the Synod service by op (the method in snake case, as the
 * session stream's ops are named) and outcome (ok, or the error reason the call failed with).
 * The streams are left alone: {@link dev.synod.server.pipeline.ClientSession} meters the requests
 * that travel on a session stream.
 */
public final class MeteringInterceptor implements ServerInterceptor {
  private final ServerMetrics metrics;
  private final ConcurrentHashMap<String, String> ops = new ConcurrentHashMap<>();

  public MeteringInterceptor(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    MethodDescriptor<Q, R> method = call.getMethodDescriptor();
    if (method.getType() != MethodDescriptor.MethodType.UNARY) {
      return next.startCall(call, headers);
    }
    String op = ops.computeIfAbsent(method.getBareMethodName(), MeteringInterceptor::snake);
    long start = metrics.startNanos();
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        String outcome = "ok";
        if (!status.isOk()) {
          String reason = trailers == null ? null : trailers.get(ErrorStatus.REASON_KEY);
          outcome = reason != null ? reason : status.getCode().name();
        }
        metrics.requestDone("unary", op, outcome, status.isOk() ? null : status.getDescription(), start);
        super.close(status, trailers);
      }
    }, headers);
  }

  /** "GetData" to "get_data". */
  static String snake(String camel) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char ch = camel.charAt(i);
      if (Character.isUpperCase(ch) && i > 0) {
        out.append('_');
      }
      out.append(Character.toLowerCase(ch));
    }
    return out.toString().toLowerCase(Locale.ROOT);
  }
}
