package dev.synod.server.grpc;

import dev.synod.server.tls.ClientCertificateInterceptor;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

/**
 * Assembles the gRPC server on a builder it is given (Netty in the process, in-process in tests):
 * the Synod API, the operator's Admin service, the standard health service, and server reflection served both as v1 and as
 * v1alpha (grpcurl before 1.8.8 speaks only v1alpha). Reflection also knows the error details the
 * server sends ({@link ReflectedErrorDetails}), and every method answers a request that is not
 * valid protobuf with INVALID_ARGUMENT ({@link MalformedRequests}).
 */
public final class GrpcServerFactory {
  private GrpcServerFactory() {}

  @SuppressWarnings("deprecation") // v1alpha reflection is deprecated upstream but still needed
  public static Server build(ServerBuilder<?> builder, BindableService synod, BindableService admin,
      HealthStatusManager health, int requestBytesMax) {
    return build(builder, synod, admin, health, requestBytesMax, MalformedRequests.loggingToStderr());
  }

  @SuppressWarnings("deprecation")
  static Server build(ServerBuilder<?> builder, BindableService synod, BindableService admin,
      HealthStatusManager health, int requestBytesMax, MalformedRequests malformed) {
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(dev.synod.api.v1.SynodGrpc.SERVICE_NAME, ServingStatus.SERVING);
    return builder
        .addService(malformed.guard(ReflectedErrorDetails.withErrorDetails(synod.bindService())))
        .addService(malformed.guard(admin.bindService()))
        .addService(malformed.guard(health.getHealthService().bindService()))
        .addService(malformed.guard(ProtoReflectionServiceV1.newInstance().bindService()))
        .addService(malformed.guard(ProtoReflectionService.newInstance().bindService()))
        .maxInboundMessageSize(requestBytesMax)
        // A verified client certificate (mutual TLS) becomes ClientCertificate.current() in handlers.
        .intercept(new ClientCertificateInterceptor())
        .build();
  }
}
