package dev.synod.server.grpc;

import com.google.protobuf.Message;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Answers a request whose bytes are not a valid protobuf message of its method's request type with
 * INVALID_ARGUMENT (reason BAD_ARGUMENT, naming the type and what the parser found), and logs one
 * line about it at most once a minute.
 *
 * <p>grpc-java parses a request before the service sees it, and lets a parse failure escape as
 * UNKNOWN "Application error processing RPC" with a SEVERE stack trace for every such request. An
 * interceptor cannot catch that (the parse happens outside it), so {@link #guard} wraps each
 * method's request marshaller: a parse failure becomes a {@link Malformed} value instead of an
 * exception, and the listener installed with it, the first to see every message, ends the call
 * with the status and tells the service's own listener the call was cancelled. The service never
 * sees the value.
 */
public final class MalformedRequests {
  static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Consumer<String> log;
  private final LongSupplier nanoTime;
  private boolean loggedAny;
  private long lastLogNanos;
  private long unlogged;

  /**
   * @param log where the rate-limited line goes (the process: the server's log, at WARN)
   * @param nanoTime monotonic time, for the rate limit
   */
  public MalformedRequests(Consumer<String> log, LongSupplier nanoTime) {
    this.log = log;
    this.nanoTime = nanoTime;
  }

  public static MalformedRequests loggingToStderr() {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("dev.synod.server.requests");
    return new MalformedRequests(line -> log.warn(line.startsWith("synod: ") ? line.substring(7) : line),
        System::nanoTime);
  }

  /** The same service, its methods answering malformed requests with INVALID_ARGUMENT. */
  public ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor()); // what reflection serves
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guard(method);
      methods.add(guarded);
      descriptor.addMethod(guarded.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  private <Q, R> ServerMethodDefinition<Q, R> guard(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> original = method.getMethodDescriptor();
    MethodDescriptor<Q, R> lenient = original.toBuilder(
        new Lenient<>(original.getRequestMarshaller()), original.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = method.getServerCallHandler();
    String type = typeName(original);
    return ServerMethodDefinition.create(lenient,
        (call, headers) -> new Listener<>(call, handler.startCall(call, headers), type));
  }

  private static String typeName(MethodDescriptor<?, ?> method) {
    if (method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
        && p.getMessagePrototype() instanceof Message m) {
      return m.getDescriptorForType().getFullName();
    }
    return "request of " + method.getFullMethodName();
  }

  /** A request that did not parse, standing in for the message on its way to {@link Listener}. */
  static final class Malformed {
    final RuntimeException cause;

    Malformed(RuntimeException cause) {
      this.cause = cause;
    }

    /** What the parser said, without the transport's wrapping. */
    String reason() {
      Throwable t = cause;
      while (t.getCause() != null) {
        t = t.getCause();
      }
      return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
  }

  /** Parses as the method's own marshaller does, turning a failure into a {@link Malformed}. */
  private static final class Lenient<T> implements MethodDescriptor.Marshaller<T> {
    private final MethodDescriptor.Marshaller<T> inner;

    Lenient(MethodDescriptor.Marshaller<T> inner) {
      this.inner = inner;
    }

    @Override
    public InputStream stream(T value) {
      return inner.stream(value);
    }

    @Override
    @SuppressWarnings("unchecked") // erased: only Listener ever sees the value, and checks for it
    public T parse(InputStream stream) {
      try {
        return inner.parse(stream);
      } catch (RuntimeException e) {
        return (T) new Malformed(e);
      }
    }
  }

  /** First to see each message of a call; callbacks of one call never run concurrently. */
  private final class Listener<Q, R> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final ServerCall<Q, R> call;
    private final String type;
    private boolean refused;

    Listener(ServerCall<Q, R> call, ServerCall.Listener<Q> service, String type) {
      super(service);
      this.call = call;
      this.type = type;
    }

    @Override
    public void onMessage(Q message) {
      if (refused) {
        return;
      }
      Object m = message;
      if (m instanceof Malformed bad) {
        refused = true;
        refuse(bad);
        super.onCancel(); // the service's listener cleans up as for a client that went away
        return;
      }
      super.onMessage(message);
    }

    private void refuse(Malformed bad) {
      String method = call.getMethodDescriptor().getFullMethodName();
      StatusRuntimeException status = ErrorStatus.of(Error.newBuilder()
          .setReason(ErrorReason.BAD_ARGUMENT)
          .setMessage("the request to " + method + " is not a valid " + type + " message: " + bad.reason())
          .build());
      Metadata trailers = status.getTrailers() == null ? new Metadata() : status.getTrailers();
      call.close(status.getStatus(), trailers);
      logRefusal(method, String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
          bad.reason());
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        super.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!refused) {
        super.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!refused) {
        super.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        super.onReady();
      }
    }
  }

  /** One line, at most once a minute; the ones left out are counted in the next. */
  private synchronized void logRefusal(String method, String from, String reason) {
    long now = nanoTime.getAsLong();
    if (loggedAny && now - lastLogNanos < LOG_INTERVAL_NANOS) {
      unlogged++;
      return;
    }
    String more = unlogged == 0 ? "" : " (and " + unlogged + " more since the last such line)";
    log.accept("synod: refused a malformed request to " + method + " from " + from + ": " + reason + more);
    loggedAny = true;
    lastLogNanos = now;
    unlogged = 0;
  }
}
