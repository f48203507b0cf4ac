package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.AddAuthRequest;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.Credential;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import dev.synod.server.auth.DigestAuth;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Authentication: credentials on open, resume, add_auth and in metadata; nothing secret leaks. */
class AuthTest {
  private static final String ROOT_PASSWORD = "Sup3r-s3cret-pw";
  private static final String ALICE_PASSWORD = "alice-s3cret-pw";

  @TempDir
  Path dir;
  private TestServer server;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private PrintStream originalErr;

  @BeforeEach
  void start() throws Exception {
    originalErr = System.err;
    System.setErr(new PrintStream(new java.io.OutputStream() {
      @Override
      public void write(int b) {
        stderr.write(b);
        originalErr.write(b);
      }
    }, true));
    server = new TestServer(dir, "superuser-digest", DigestAuth.digest("root:" + ROOT_PASSWORD));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    System.setErr(originalErr);
  }

  private static Credential digest(String userPassword) {
    return Credential.newBuilder().setScheme("digest")
        .setAuth(ByteString.copyFromUtf8(userPassword)).build();
  }

  private StreamClient open(Credential... credentials) throws InterruptedException {
    StreamClient c = new StreamClient(server.channel());
    c.send(ClientMessage.newBuilder().setOpen(OpenSessionRequest.newBuilder()
        .setTimeoutMs(10_000).addAllCredentials(List.of(credentials))).build());
    return c;
  }

  private StreamClient opened(Credential... credentials) throws InterruptedException {
    StreamClient c = open(credentials);
    c.opened = c.next().getOpened();
    return c;
  }

  private static Request.Builder createWith(String path, String scheme, String id, int perms) {
    return Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path)
        .addAcl(Acl.newBuilder().setScheme(scheme).setId(id).setPerms(perms)));
  }

  private static Request.Builder get(String path) {
    return Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path));
  }

  private SynodGrpc.SynodBlockingStub unary(String header) {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTH_HEADER, header);
    return server.blocking().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Test
  void wrongCredentialsOpenNoSession() throws Exception {
    long sessionsBefore = server.blocking().status(StatusRequest.getDefaultInstance()).getSessionCount();
    for (Credential bad : List.of(digest("root:wrong-" + ROOT_PASSWORD), digest("no-colon"),
        Credential.newBuilder().setScheme("bogus").setAuth(ByteString.copyFromUtf8("x:y")).build())) {
      StreamClient c = open(bad);
      Throwable end = c.awaitEnd();
      assertNotNull(end, "the stream ends");
      StatusRuntimeException status = (StatusRuntimeException) end;
      assertEquals(Status.Code.UNAUTHENTICATED, status.getStatus().getCode());
      assertEquals(ErrorReason.AUTH_FAILED, ErrorStatus.reasonOf(status));
      assertTrue(c.received.isEmpty(), "no `opened`: " + c.received);
      assertFalse(String.valueOf(status.getStatus().getDescription()).contains(ROOT_PASSWORD));
    }
    assertEquals(sessionsBefore,
        server.blocking().status(StatusRequest.getDefaultInstance()).getSessionCount());
    StatusRuntimeException unary = assertThrows(StatusRuntimeException.class,
        () -> unary("digest:root:nope").getData(GetDataRequest.newBuilder().setPath("/").build()));
    assertEquals(ErrorReason.AUTH_FAILED, ErrorStatus.reasonOf(unary));
    assertEquals(Status.Code.UNAUTHENTICATED, unary.getStatus().getCode());
  }

  @Test
  void addAuthGrantsOnTheStreamAndResumeNeedsTheCredentialsAgain() throws Exception {
    String aliceId = DigestAuth.digest("alice:" + ALICE_PASSWORD);
    try (StreamClient owner = opened(digest("alice:" + ALICE_PASSWORD))) {
      assertFalse(owner.call(createWith("/private", "auth", "", 31)).hasError());
      assertEquals(List.of(Acl.newBuilder().setScheme("digest").setId(aliceId).setPerms(31).build()),
          server.blocking().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(header(
              "digest:root:" + ROOT_PASSWORD))).getAcl(GetAclRequest.newBuilder().setPath("/private")
              .build()).getAclList(), "auth became alice's digest");
      assertFalse(owner.call(get("/private")).hasError());
    }
    StreamClient anonymous = opened();
    assertEquals(ErrorReason.NO_AUTH, anonymous.call(get("/private")).getError().getReason());
    Response wrong = anonymous.call(Request.newBuilder().setAddAuth(
        AddAuthRequest.newBuilder().setCredential(digest("root:bad"))));
    assertEquals(ErrorReason.AUTH_FAILED, wrong.getError().getReason());
    assertFalse(wrong.toString().contains("bad"), "the credential is not echoed");
    Response added = anonymous.call(Request.newBuilder().setAddAuth(
        AddAuthRequest.newBuilder().setCredential(digest("alice:" + ALICE_PASSWORD))));
    assertFalse(added.hasError());
    assertTrue(added.getAddAuth().getIdentitiesList().stream().anyMatch(i -> i.getId().equals(aliceId)));
    assertFalse(anonymous.call(get("/private")).hasError(), "add_auth takes effect at once");
    // A write right behind add_auth carries the new identity.
    long no = anonymous.sendRequest(Request.newBuilder().setAddAuth(AddAuthRequest.newBuilder()
        .setCredential(digest("root:" + ROOT_PASSWORD))));
    Response write = anonymous.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder()
        .setPath("/private").setData(ByteString.copyFromUtf8("x"))));
    assertFalse(anonymous.awaitResponse(no).hasError());
    assertFalse(write.hasError(), write.toString());

    // Identities belong to the stream: a resume without credentials proves nothing.
    StreamClient resumedBare = StreamClient.resume(server.channel(), anonymous.opened, 0);
    assertEquals(ErrorReason.NO_AUTH, resumedBare.call(get("/private")).getError().getReason());
    StreamClient resumed = new StreamClient(server.channel());
    resumed.send(ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
        .setSessionId(anonymous.opened.getSessionId()).setSecret(anonymous.opened.getSecret())
        .addCredentials(digest("alice:" + ALICE_PASSWORD))).build());
    resumed.opened = resumed.next().getOpened();
    assertFalse(resumed.call(get("/private")).hasError());
    StreamClient badResume = new StreamClient(server.channel());
    badResume.send(ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
        .setSessionId(anonymous.opened.getSessionId()).setSecret(anonymous.opened.getSecret())
        .addCredentials(digest("root:nope"))).build());
    assertEquals(ErrorReason.AUTH_FAILED, ErrorStatus.reasonOf((StatusRuntimeException) badResume.awaitEnd()));
    assertFalse(resumed.call(get("/private")).hasError(), "a refused resume leaves the session be");

    // Unary calls prove their identities per call, in metadata.
    assertEquals(ErrorReason.NO_AUTH, ErrorStatus.reasonOf(assertThrows(StatusRuntimeException.class,
        () -> server.blocking().getData(GetDataRequest.newBuilder().setPath("/private").build()))));
    assertEquals("x", unary("digest:alice:" + ALICE_PASSWORD)
        .getData(GetDataRequest.newBuilder().setPath("/private").build()).getData().toStringUtf8());
  }

  @Test
  void persistentWatchesDeliverOnlyWhatTheWatcherMayRead() throws Exception {
    StreamClient root = opened(digest("root:" + ROOT_PASSWORD));
    StreamClient alice = opened(digest("alice:" + ALICE_PASSWORD));
    String aliceId = DigestAuth.digest("alice:" + ALICE_PASSWORD);
    assertFalse(root.call(createWith("/w", "world", "anyone", 31)).hasError());
    assertFalse(alice.call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath("/w")
        .setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE))).hasError());
    assertFalse(root.call(createWith("/w/hidden", "digest", "bob:x=", 31)).hasError());
    assertFalse(root.call(createWith("/w/mine", "digest", aliceId, 1)).hasError());
    assertFalse(root.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder()
        .setPath("/w/hidden"))).hasError());
    assertFalse(root.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder()
        .setPath("/w/mine"))).hasError());
    List<WatchEvent> events = alice.awaitEvents(2);
    assertFalse(root.call(createWith("/w/last", "world", "anyone", 1)).hasError());
    events = alice.awaitEvents(3);
    assertEquals(List.of("NODE_CREATED /w/mine", "NODE_DATA_CHANGED /w/mine", "NODE_CREATED /w/last"),
        events.stream().map(e -> e.getType() + " " + e.getPath()).toList());
    // And a watcher who proves more later sees more.
    StreamClient anon = opened();
    assertFalse(anon.call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath("/w")
        .setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE))).hasError());
    assertFalse(anon.call(Request.newBuilder().setAddAuth(AddAuthRequest.newBuilder()
        .setCredential(digest("alice:" + ALICE_PASSWORD)))).hasError());
    assertFalse(root.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder()
        .setPath("/w/mine"))).hasError());
    assertEquals(EventType.NODE_DATA_CHANGED, anon.awaitEvents(1).get(0).getType());
  }

  @Test
  void noPasswordReachesLogsStatusOrDisk() throws Exception {
    StreamClient root = opened(digest("root:" + ROOT_PASSWORD));
    assertFalse(root.call(createWith("/secret", "auth", "", 31)).hasError());
    StreamClient bad = open(digest("root:" + ALICE_PASSWORD));
    bad.awaitEnd();
    assertThrows(StatusRuntimeException.class, () -> unary("digest:root:" + ALICE_PASSWORD)
        .getData(GetDataRequest.newBuilder().setPath("/").build()));
    String status = server.blocking().status(StatusRequest.getDefaultInstance()).toString();
    server.close();
    server = new TestServer(dir, "superuser-digest", DigestAuth.digest("root:" + ROOT_PASSWORD));
    for (String secret : List.of(ROOT_PASSWORD, ALICE_PASSWORD)) {
      assertFalse(stderr.toString(StandardCharsets.UTF_8).contains(secret), "stderr holds " + secret);
      assertFalse(status.contains(secret));
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
          assertFalse(bytes.contains(secret), f + " holds a password");
        }
      }
    }
    assertTrue(unary("digest:root:" + ROOT_PASSWORD).getData(GetDataRequest.newBuilder()
        .setPath("/secret").build()).hasStat(), "still readable after the restart");
  }

  private static io.grpc.Metadata header(String value) {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTH_HEADER, value);
    return headers;
  }
}
