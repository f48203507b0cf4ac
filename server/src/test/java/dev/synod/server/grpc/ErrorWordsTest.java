package dev.synod.server.grpc;

import static dev.synod.server.grpc.BadInputTest.assertReason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchRequest;
import dev.synod.server.TestServer;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a user reads when a request fails: the right reason, and a message that names the path or
 * field concerned and says what to do.
 */
class ErrorWordsTest {
  @TempDir Path dir;
  TestServer server;
  SynodGrpc.SynodBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    server = new TestServer(dir, "outbound-messages-max", "16");
    stub = server.blocking();
    stub.create(CreateRequest.newBuilder().setPath("/app").build());
    stub.create(CreateRequest.newBuilder().setPath("/app/child").build());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static String description(Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    return e.getStatus().getDescription();
  }

  @Test
  void everyNodeErrorNamesItsPath() {
    assertEquals("NO_NODE: /app/missing does not exist", description(
        () -> stub.getData(GetDataRequest.newBuilder().setPath("/app/missing").build())));
    assertEquals("NO_NODE: cannot create /nope/x: its parent /nope does not exist", description(
        () -> stub.create(CreateRequest.newBuilder().setPath("/nope/x").build())));
    assertEquals("NODE_EXISTS: /app already exists", description(
        () -> stub.create(CreateRequest.newBuilder().setPath("/app").build())));
    assertEquals("BAD_VERSION: /app is at version 0, not the expected 3", description(
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/app").setVersion(3).build())));
    assertEquals("NOT_EMPTY: /app has 1 children; delete them first", description(
        () -> stub.delete(DeleteRequest.newBuilder().setPath("/app").build())));
    assertTrue(description(() -> stub.create(CreateRequest.newBuilder().setPath("/e")
            .setKind(dev.synod.api.v1.NodeKind.EPHEMERAL).build())).contains("/e"));
  }

  @ParameterizedTest
  @ValueSource(ints = {-2, -100, Integer.MIN_VALUE})
  void aVersionBelowMinusOneIsABadArgumentNotABadVersion(int version) {
    for (Runnable call : new Runnable[] {
        () -> stub.setData(SetDataRequest.newBuilder().setPath("/app").setVersion(version).build()),
        () -> stub.delete(DeleteRequest.newBuilder().setPath("/app/child").setVersion(version).build()),
        () -> stub.setAcl(SetAclRequest.newBuilder().setPath("/app").setAversion(version)
            .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31)).build()),
        () -> stub.multi(MultiRequest.newBuilder().addOps(Op.newBuilder().setCheck(
            CheckRequest.newBuilder().setPath("/app").setVersion(version))).build())}) {
      assertReason(ErrorReason.BAD_ARGUMENT, Status.Code.INVALID_ARGUMENT, call);
      String message = description(call);
      assertTrue(message.contains("/app") && message.contains(Integer.toString(version)), message);
    }
    assertTrue(stub.exists(ExistsRequest.newBuilder().setPath("/app/child").build()).getExists());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/line\u2028sep", "/para\u2029sep", "/zero\u200bwidth", "/soft\u00adhyphen",
      "/rtl\u202eoverride", "/bom\ufeff", "/joiner\u200d", "/word\u2060joiner"})
  void aNewPathRefusesInvisibleFormatAndSeparatorCharacters(String path) {
    assertReason(ErrorReason.INVALID_PATH, Status.Code.INVALID_ARGUMENT,
        () -> stub.create(CreateRequest.newBuilder().setPath(path).build()));
    String message = description(() -> stub.create(CreateRequest.newBuilder().setPath(path).build()));
    assertTrue(message.contains("invisible character U+"), message);
    // The look-alike without the invisible character is an ordinary path.
    String visible = path.replaceAll("[\\p{Cf}\\p{Zl}\\p{Zp}]", "");
    stub.create(CreateRequest.newBuilder().setPath(visible).build());
    assertTrue(stub.exists(ExistsRequest.newBuilder().setPath(visible).build()).getExists());
  }

  @Test
  void aWatchStreamThatIsNotReadIsToldToWatchAgainNotToResumeASession() throws Exception {
    // A raw call that asks for no messages: the server's queue for it fills up.
    ClientCall<WatchRequest, WatchEvent> call = server.channel().newCall(SynodGrpc.getWatchMethod(),
        CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.sendMessage(WatchRequest.newBuilder().setPath("/app").build());
    call.halfClose();
    for (int i = 0; i < 40 && !closed.isDone(); i++) {
      stub.setData(SetDataRequest.newBuilder().setPath("/app").build());
    }
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
    assertTrue(status.getDescription().startsWith("OVERLOADED: "), status.toString());
    assertTrue(status.getDescription().contains("call Watch again with start_zxid"), status.toString());
    assertFalse(status.getDescription().contains("session"), status.toString());
  }
}
