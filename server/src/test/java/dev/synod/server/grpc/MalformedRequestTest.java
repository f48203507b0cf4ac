package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.TestServer;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bytes that are not a valid protobuf message of the method's request type get INVALID_ARGUMENT
 * with reason BAD_ARGUMENT on every call (unary, streams, health, reflection), not UNKNOWN with a
 * stack trace in the server's log; the log gets one line at most once a minute.
 */
class MalformedRequestTest {
  /** Field 1, length-delimited, announcing 5 bytes and ending after 1. */
  static final byte[] TRUNCATED = {0x0a, 0x05, 0x41};
  /** A tag of field number 0, which no message may hold. */
  static final byte[] BAD_TAG = {0x00, 0x01};

  @TempDir Path dir;

  static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  /** Sends {@code bytes} as the one request of {@code method} and returns how the call ended. */
  static Status send(Channel channel, MethodDescriptor<?, ?> method, byte[] bytes, Metadata[] trailersOut)
      throws Exception {
    MethodDescriptor<byte[], byte[]> raw = method.toBuilder(RAW, RAW).build();
    ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        if (trailersOut != null) {
          trailersOut[0] = trailers;
        }
        closed.complete(status);
      }
    }, new Metadata());
    call.request(10);
    call.sendMessage(bytes);
    if (method.getType().clientSendsOneMessage()) {
      call.halfClose();
    }
    Status status = closed.get(10, TimeUnit.SECONDS);
    if (!method.getType().clientSendsOneMessage()) {
      call.cancel("done", null);
    }
    return status;
  }

  @Test
  void everyMethodAnswersMalformedBytesWithInvalidArgument() throws Exception {
    try (TestServer server = new TestServer(dir)) {
      Channel channel = server.channel();
      for (MethodDescriptor<?, ?> method : List.of(SynodGrpc.getCreateMethod(), SynodGrpc.getGetDataMethod(),
          SynodGrpc.getMultiMethod(), SynodGrpc.getOpenSessionMethod(), SynodGrpc.getSessionMethod(),
          SynodGrpc.getWatchMethod(), HealthGrpc.getCheckMethod(),
          io.grpc.reflection.v1.ServerReflectionGrpc.getServerReflectionInfoMethod())) {
        for (byte[] bytes : List.of(TRUNCATED, BAD_TAG)) {
          Metadata[] trailers = new Metadata[1];
          Status status = send(channel, method, bytes, trailers);
          assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), method.getFullMethodName() + ": " + status);
          assertTrue(status.getDescription().startsWith("BAD_ARGUMENT: the request to "
              + method.getFullMethodName() + " is not a valid "), status.getDescription());
          com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers[0]);
          ErrorInfo info = null;
          for (Any any : details.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
              info = any.unpack(ErrorInfo.class);
            }
          }
          assertEquals(ErrorReason.BAD_ARGUMENT.name(), info == null ? null : info.getReason());
        }
      }
      Status create = send(channel, SynodGrpc.getCreateMethod(), TRUNCATED, null);
      assertTrue(create.getDescription().contains("synod.v1.CreateRequest"), create.getDescription());
      // The server serves on, on the same channel.
      SynodGrpc.SynodBlockingStub stub = SynodGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      stub.create(CreateRequest.newBuilder().setPath("/after").build());
      assertTrue(stub.exists(ExistsRequest.newBuilder().setPath("/after").build()).getExists());
      assertTrue(server.fatalErrors.isEmpty(), server.fatalErrors.toString());
    }
  }

  @Test
  void theLogGetsOneLineAMinuteCountingTheRest() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    AtomicLong now = new AtomicLong(1_000);
    MalformedRequests malformed = new MalformedRequests(log::add, now::get);
    String name = "malformed-log-" + System.nanoTime();
    Server server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(malformed.guard(new SynodGrpc.SynodImplBase() {}.bindService())).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      for (int i = 0; i < 3; i++) {
        assertEquals(Status.Code.INVALID_ARGUMENT, send(channel, SynodGrpc.getCreateMethod(), BAD_TAG, null).getCode());
      }
      assertEquals(1, log.size(), log.toString());
      assertTrue(log.get(0).startsWith("synod: refused a malformed request to synod.v1.Synod/Create from "),
          log.get(0));
      now.addAndGet(MalformedRequests.LOG_INTERVAL_NANOS);
      send(channel, SynodGrpc.getGetDataMethod(), BAD_TAG, null);
      assertEquals(2, log.size(), log.toString());
      assertTrue(log.get(1).endsWith("(and 2 more since the last such line)"), log.get(1));
      // A well-formed request still reaches the service (here: the default, UNIMPLEMENTED).
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> SynodGrpc.newBlockingStub(channel).create(CreateRequest.newBuilder().setPath("/x").build()));
      assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
