package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import dev.synod.server.Eventually;
import dev.synod.server.TestServer;
import io.grpc.Channel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What grpcurl does with no .proto at hand: list services through server reflection, then
 * describe each one from the file descriptors the server sends. Both v1 and v1alpha.
 */
class ReflectionTest {
  static final Set<String> EXPECTED = Set.of("synod.v1.Synod", "synod.v1.Admin", "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");

  @TempDir Path dir;
  TestServer server;

  @BeforeEach
  void start() throws Exception {
    server = new TestServer(dir);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  /** One request/response exchange on a reflection stream (v1 or v1alpha). */
  static <Q, R> R ask(Function<StreamObserver<R>, StreamObserver<Q>> open, Q request) throws Exception {
    CompletableFuture<R> answer = new CompletableFuture<>();
    StreamObserver<Q> out = open.apply(new StreamObserver<>() {
      @Override
      public void onNext(R r) {
        answer.complete(r);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    out.onNext(request);
    R r = answer.get(10, TimeUnit.SECONDS);
    out.onCompleted();
    return r;
  }

  static ServerReflectionResponse askV1(Channel channel, ServerReflectionRequest request) throws Exception {
    return ask(ServerReflectionGrpc.newStub(channel)::serverReflectionInfo, request);
  }

  @Test
  void v1ListsAndDescribesEveryService() throws Exception {
    Channel channel = server.channel();
    ServerReflectionResponse list = askV1(channel, ServerReflectionRequest.newBuilder().setListServices("*").build());
    Set<String> names = new TreeSet<>();
    list.getListServicesResponse().getServiceList().forEach(s -> names.add(s.getName()));
    assertEquals(new TreeSet<>(EXPECTED), names);

    for (String service : names) {
      ServerReflectionResponse files = askV1(channel,
          ServerReflectionRequest.newBuilder().setFileContainingSymbol(service).build());
      assertFalse(files.hasErrorResponse(), service + ": " + files.getErrorResponse());
      Map<String, ServiceDescriptorProto> services = new HashMap<>();
      for (var bytes : files.getFileDescriptorResponse().getFileDescriptorProtoList()) {
        FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
        for (ServiceDescriptorProto s : file.getServiceList()) {
          services.put(file.getPackage() + "." + s.getName(), s);
        }
      }
      assertTrue(services.containsKey(service), "descriptor of " + service);
      assertTrue(services.get(service).getMethodCount() > 0);
    }

    // The Synod service describes every call of the contract, with its message types resolvable.
    ServerReflectionResponse synod = askV1(channel,
        ServerReflectionRequest.newBuilder().setFileContainingSymbol("synod.v1.Synod").build());
    List<String> methods = new ArrayList<>();
    for (var bytes : synod.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      for (ServiceDescriptorProto s : FileDescriptorProto.parseFrom(bytes).getServiceList()) {
        s.getMethodList().forEach(m -> methods.add(m.getName()));
      }
    }
    assertTrue(methods.containsAll(List.of("Session", "OpenSession", "KeepAlive", "CloseSession", "Create",
        "Delete", "SetData", "GetData", "Exists", "GetChildren", "SetAcl", "GetAcl", "Multi", "Sync",
        "Status", "Watch")), methods.toString());
    ServerReflectionResponse type = askV1(channel,
        ServerReflectionRequest.newBuilder().setFileContainingSymbol("synod.v1.CreateRequest").build());
    assertFalse(type.hasErrorResponse());
  }

  @Test
  void theErrorDetailsOfEveryFailureAreKnownToReflection() throws Exception {
    // grpcurl resolves the Any in a failed call's status by asking for the file of its type.
    for (String symbol : List.of("google.rpc.ErrorInfo", "synod.v1.MultiResponse")) {
      ServerReflectionResponse r = askV1(server.channel(),
          ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build());
      assertFalse(r.hasErrorResponse(), symbol + ": " + r.getErrorResponse());
      boolean found = false;
      for (var bytes : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
        FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
        found |= file.getMessageTypeList().stream()
            .anyMatch(m -> (file.getPackage() + "." + m.getName()).equals(symbol));
      }
      assertTrue(found, symbol);
    }
    // And synod.proto, as reflection serves it, imports them, so a client loading it has them.
    ServerReflectionResponse synod = askV1(server.channel(),
        ServerReflectionRequest.newBuilder().setFileByFilename("synod/v1/synod.proto").build());
    FileDescriptorProto file = FileDescriptorProto.parseFrom(
        synod.getFileDescriptorResponse().getFileDescriptorProto(0));
    assertTrue(file.getDependencyList().contains("google/rpc/error_details.proto"), file.getDependencyList().toString());
    assertEquals(dev.synod.api.v1.SynodProto.getDescriptor().toProto().getMessageTypeList(), file.getMessageTypeList(),
        "the same messages as the generated code");
  }

  @Test
  void v1alphaDescribesTheApiForOlderGrpcurl() throws Exception {
    var files = ask(io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(server.channel())::serverReflectionInfo,
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
            .setFileContainingSymbol("synod.v1.Synod").build());
    assertFalse(files.getFileDescriptorResponse().getFileDescriptorProtoList().isEmpty());
    var list = ask(io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(server.channel())::serverReflectionInfo,
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("*").build());
    assertTrue(list.getListServicesResponse().getServiceList().stream()
        .anyMatch(svc -> svc.getName().equals("synod.v1.Synod")));
  }

  @Test
  void healthServiceReportsServing() throws InterruptedException {
    var health = HealthGrpc.newBlockingStub(server.channel());
    // SERVING once the server leads (a cluster of one elects itself within an election timeout).
    Eventually.eventually(Duration.ofSeconds(10), "health of \"\" SERVING",
        () -> health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus(),
        status -> status == HealthCheckResponse.ServingStatus.SERVING);
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        health.check(HealthCheckRequest.newBuilder().setService("synod.v1.Synod").build()).getStatus());
  }
}
