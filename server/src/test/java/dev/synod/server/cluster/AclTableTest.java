package dev.synod.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.rpc.ErrorInfo;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.Credential;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.GetQuotaRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.OpResult;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchRequest;
import dev.synod.server.StreamClient;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.DigestAuth;
import dev.synod.server.grpc.AuthInterceptor;
import dev.synod.server.grpc.ErrorStatus;
import dev.synod.server.tls.TestPki;
import dev.synod.server.tls.TlsCluster;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every operation × permission × scheme, allowed and denied, through the session stream and the
 * unary calls, on the leader and on a follower of a 3-member cluster (clients over loopback, so
 * every call has an ip identity). A follower must refuse exactly the reads the leader refuses;
 * writes are decided by apply, alike everywhere. One failure report lists every mismatch.
 *
 * <p>The table runs twice: over plaintext, and over a cluster started with TLS flags as the
 * README starts one (client port with {@code --tls-client-ca}, mutual TLS between members),
 * where every caller presents a client certificate, so the x509 scheme joins the table.
 */
class AclTableTest {
  private static final String ALICE = "alice:alice-pw";
  private static final String BOB = "bob:bob-pw";
  private static final String ROOT = "root:root-pw";
  /** The subject (CN) of the certificate every caller presents over mutual TLS. */
  private static final String CERTIFIED = "carol";

  @TempDir
  Path dir;

  /** An operation and the permission ZooKeeper asks for it (0: none). */
  enum Operation {
    GET_DATA(Acls.READ), GET_CHILDREN(Acls.READ), GET_ACL(Acls.READ | Acls.ADMIN), EXISTS(0),
    SET_DATA(Acls.WRITE), CREATE(Acls.CREATE), DELETE(Acls.DELETE), SET_ACL(Acls.ADMIN),
    MULTI_CHECK(Acls.READ), MULTI_CREATE(Acls.CREATE), MULTI_SET_DATA(Acls.WRITE),
    MULTI_DELETE(Acls.DELETE), ADD_WATCH(Acls.READ), GET_QUOTA(Acls.READ | Acls.ADMIN),
    SET_QUOTA(Acls.ADMIN);

    final int perm;

    Operation(int perm) {
      this.perm = perm;
    }
  }

  /** How the node's ACL names the caller, and who the caller is. */
  enum Scheme {
    WORLD(true, false), DIGEST(true, false), IP(true, false), AUTH(true, false),
    /** The caller's certificate subject (only over mutual TLS). */
    X509(true, true),
    /** The ACL grants everything, to another digest user. */
    DIGEST_OTHER(false, false),
    /** The ACL grants everything, to another network. */
    IP_OTHER(false, false),
    /** The ACL grants everything, to another certificate subject. */
    X509_OTHER(false, true),
    /** The ACL grants nothing to the caller, who is the superuser. */
    SUPER(false, false);

    /** The ACL names the caller: a row where it grants the permission, and one where it does not. */
    final boolean namesCaller;
    final boolean needsClientCertificate;

    Scheme(boolean namesCaller, boolean needsClientCertificate) {
      this.namesCaller = namesCaller;
      this.needsClientCertificate = needsClientCertificate;
    }
  }

  record Case(Scheme scheme, Operation op, boolean granted, String path, List<Acl> acl) {
    boolean expectAllowed() {
      if (op.perm == 0 || scheme == Scheme.SUPER) {
        return true;
      }
      return granted && scheme.namesCaller;
    }
  }

  /** What a call came to: its reason (UNSPECIFIED: ok) and, for a multi, the failing op. */
  record Outcome(ErrorReason reason, int opIndex) {}

  interface Api {
    Outcome run(Request.Builder request) throws Exception;
  }

  private static Acl acl(String scheme, String id, int perms) {
    return Acl.newBuilder().setScheme(scheme).setId(id).setPerms(perms).build();
  }

  private static List<Acl> aclFor(Scheme scheme, int perms) {
    return switch (scheme) {
      case WORLD -> List.of(acl("world", "anyone", perms));
      case DIGEST -> List.of(acl("digest", DigestAuth.digest(ALICE), perms));
      case IP -> List.of(acl("ip", "127.0.0.0/8", perms));
      case AUTH -> List.of(acl("auth", "", perms));
      case X509 -> List.of(acl("x509", "CN=" + CERTIFIED, perms));
      case X509_OTHER -> List.of(acl("x509", "CN=dave", Acls.ALL));
      case DIGEST_OTHER -> List.of(acl("digest", DigestAuth.digest(BOB), Acls.ALL));
      case IP_OTHER -> List.of(acl("ip", "10.0.0.0/8", Acls.ALL));
      case SUPER -> List.of(acl("digest", DigestAuth.digest(BOB), Acls.READ));
    };
  }

  private static String callerOf(Scheme scheme) {
    return switch (scheme) {
      case DIGEST, AUTH, DIGEST_OTHER -> ALICE;
      case SUPER -> ROOT;
      // anonymous (but for its loopback address, and over mutual TLS its certificate)
      case WORLD, IP, IP_OTHER, X509, X509_OTHER -> null;
    };
  }

  /** Where the table runs: the members of a 3-member cluster and channels to them. */
  interface Members {
    int awaitLeader() throws Exception;

    ManagedChannel channel(int member) throws Exception;
  }

  @Test
  void everyOperationPermissionAndScheme() throws Exception {
    try (TestCluster cluster = TestCluster.overLoopback(dir, 3,
        "superuser-digest", DigestAuth.digest(ROOT))) {
      everyOperationPermissionAndScheme(new Members() {
        @Override
        public int awaitLeader() throws Exception {
          return cluster.awaitLeader();
        }

        @Override
        public ManagedChannel channel(int member) {
          return cluster.servers[member].channel();
        }
      }, false);
    }
  }

  @Test
  void everyOperationPermissionAndSchemeOverMutualTls() throws Exception {
    try (TlsCluster cluster = TlsCluster.start(dir, true, "--superuser-digest", DigestAuth.digest(ROOT))) {
      TestPki.Files2 certificate = TestPki.leaf(cluster.clientCa, CERTIFIED).write(dir, CERTIFIED);
      everyOperationPermissionAndScheme(new Members() {
        @Override
        public int awaitLeader() throws Exception {
          return cluster.awaitLeader();
        }

        @Override
        public ManagedChannel channel(int member) throws Exception {
          return cluster.channel(member, certificate);
        }
      }, true);
    }
  }

  private void everyOperationPermissionAndScheme(Members members, boolean overMutualTls) throws Exception {
    int leader = members.awaitLeader();
    int follower = leader % 3 + 1;
    Api rootApi = streamApi(members.channel(leader), ROOT);
    Api aliceOnLeader = streamApi(members.channel(leader), ALICE);
    ok(rootApi.run(create("/t", List.of(Acls.WORLD_ANYONE_ALL))));
    ok(rootApi.run(create("/t/free", List.of(Acls.WORLD_ANYONE_ALL))));

    List<Case> cases = new ArrayList<>();
    for (Scheme scheme : Scheme.values()) {
      if (scheme.needsClientCertificate && !overMutualTls) {
        continue;
      }
      for (Operation op : Operation.values()) {
        boolean twoRows = op.perm != 0 && scheme.namesCaller;
        for (boolean granted : twoRows ? new boolean[] {true, false} : new boolean[] {true}) {
          int perms = granted ? (op.perm == 0 ? Acls.ADMIN : op.perm) : Acls.ALL & ~op.perm;
          String path = "/t/" + scheme + "-" + op + "-" + (granted ? "granted" : "denied");
          List<Acl> acl = aclFor(scheme, perms);
          // The auth scheme becomes the identities of the creator: alice creates those nodes.
          ok((scheme == Scheme.AUTH ? aliceOnLeader : rootApi).run(create(path, acl)));
          cases.add(new Case(scheme, op, granted, path, acl));
        }
      }
    }

    List<String> mismatches = new ArrayList<>();
    int run = 0;
    for (int member : new int[] {leader, follower}) {
      ManagedChannel channel = members.channel(member);
      SynodGrpc.SynodBlockingStub server = SynodGrpc.newBlockingStub(channel);
      // The follower has applied the setup before it is asked anything about it.
      server.withDeadlineAfter(10, TimeUnit.SECONDS).sync(SyncRequest.getDefaultInstance());
      for (boolean stream : new boolean[] {true, false}) {
        run++;
        String where = (member == leader ? "leader" : "follower") + (stream ? " stream" : " unary");
        java.util.Map<String, Api> apis = new java.util.HashMap<>();
        for (Case c : cases) {
          // Children a delete removes are made by the superuser first.
          if (c.op == Operation.DELETE || c.op == Operation.MULTI_DELETE) {
            ok(rootApi.run(create(c.path + "/d" + run, List.of(Acls.WORLD_ANYONE_ALL))));
            server.withDeadlineAfter(10, TimeUnit.SECONDS).sync(SyncRequest.getDefaultInstance());
          }
          String caller = callerOf(c.scheme);
          Api api = apis.computeIfAbsent(String.valueOf(caller),
              k -> stream ? streamApi(channel, caller) : unaryApi(channel, caller));
          Outcome got = api.run(request(c, run, server));
          boolean multi = c.op.name().startsWith("MULTI_");
          Outcome want = c.expectAllowed() ? new Outcome(ErrorReason.ERROR_REASON_UNSPECIFIED, -1)
              : new Outcome(ErrorReason.NO_AUTH, multi ? 1 : -1);
          if (!want.equals(got)) {
            mismatches.add(where + ": " + c.scheme + " " + c.op + (c.granted ? " granted" : " denied")
                + " by " + c.acl + ": want " + want + ", got " + got);
          }
        }
      }
    }
    assertTrue(cases.size() > (overMutualTls ? 190 : 150), "the table has " + cases.size() + " rows");
    assertEquals(List.of(), mismatches);
  }

  // -------------------------------------------------------------------------------------------
  // The requests

  private static Request.Builder create(String path, List<Acl> acl) {
    return Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path).addAllAcl(acl));
  }

  private Request.Builder request(Case c, int run, SynodGrpc.SynodBlockingStub server) {
    String p = c.path;
    Request.Builder r = Request.newBuilder();
    Op free = Op.newBuilder().setCreate(CreateRequest.newBuilder()
        .setPath("/t/free/" + c.scheme + "-" + c.op + "-" + c.granted + "-" + run)).build();
    return switch (c.op) {
      case GET_DATA -> r.setGetData(GetDataRequest.newBuilder().setPath(p));
      case GET_CHILDREN -> r.setGetChildren(GetChildrenRequest.newBuilder().setPath(p));
      case GET_ACL -> r.setGetAcl(GetAclRequest.newBuilder().setPath(p));
      case EXISTS -> r.setExists(ExistsRequest.newBuilder().setPath(p));
      case SET_DATA -> r.setSetData(SetDataRequest.newBuilder().setPath(p)
          .setData(ByteString.copyFromUtf8("v" + run)));
      case CREATE -> r.setCreate(CreateRequest.newBuilder().setPath(p + "/c" + run));
      case DELETE -> r.setDelete(DeleteRequest.newBuilder().setPath(p + "/d" + run));
      case SET_ACL -> r.setSetAcl(SetAclRequest.newBuilder().setPath(p).addAllAcl(c.acl));
      case MULTI_CHECK -> r.setMulti(MultiRequest.newBuilder().addOps(free)
          .addOps(Op.newBuilder().setCheck(dev.synod.api.v1.CheckRequest.newBuilder().setPath(p))));
      case MULTI_CREATE -> r.setMulti(MultiRequest.newBuilder().addOps(free)
          .addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath(p + "/m" + run))));
      case MULTI_SET_DATA -> r.setMulti(MultiRequest.newBuilder().addOps(free)
          .addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath(p))));
      case MULTI_DELETE -> r.setMulti(MultiRequest.newBuilder().addOps(free)
          .addOps(Op.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(p + "/d" + run))));
      case ADD_WATCH -> {
        // From just before the node's creation: the replay delivers its NODE_CREATED at once
        // when the watcher may read it (the unary Watch stream needs an event to tell).
        long czxid = server.withDeadlineAfter(10, TimeUnit.SECONDS).exists(ExistsRequest.newBuilder().setPath(p).build())
            .getStat().getCzxid();
        yield r.setAddWatch(AddWatchRequest.newBuilder().setPath(p)
            .setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE).setStartZxid(czxid - 1));
      }
      case GET_QUOTA -> r.setGetQuota(GetQuotaRequest.newBuilder().setPath(p));
      case SET_QUOTA -> r.setSetQuota(SetQuotaRequest.newBuilder().setPath(p)
          .setQuota(Quota.newBuilder().setCountHard(1000)));
    };
  }

  private static void ok(Outcome outcome) {
    assertEquals(new Outcome(ErrorReason.ERROR_REASON_UNSPECIFIED, -1), outcome);
  }

  // -------------------------------------------------------------------------------------------
  // The two ways in

  private static Credential credential(String userPassword) {
    return Credential.newBuilder().setScheme("digest")
        .setAuth(ByteString.copyFromUtf8(userPassword)).build();
  }

  static Api streamApi(ManagedChannel channel, String userPassword) {
    StreamClient c = new StreamClient(channel);
    OpenSessionRequest.Builder open = OpenSessionRequest.newBuilder().setTimeoutMs(30_000);
    if (userPassword != null) {
      open.addCredentials(credential(userPassword));
    }
    c.send(ClientMessage.newBuilder().setOpen(open).build());
    try {
      c.opened = c.next().getOpened();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    return request -> {
      Response r = c.call(request);
      if (!r.hasError()) {
        return new Outcome(ErrorReason.ERROR_REASON_UNSPECIFIED, -1);
      }
      return new Outcome(r.getError().getReason(), r.hasMulti() ? failingOp(r.getMulti()) : -1);
    };
  }

  private static int failingOp(MultiResponse multi) {
    for (int i = 0; i < multi.getResultsCount(); i++) {
      OpResult result = multi.getResults(i);
      if (result.hasError() && result.getError().getReason() != ErrorReason.RUNTIME_INCONSISTENCY) {
        return i;
      }
    }
    return -1;
  }

  static Api unaryApi(ManagedChannel channel, String userPassword) {
    Metadata headers = new Metadata();
    if (userPassword != null) {
      headers.put(AuthInterceptor.AUTH_HEADER, "digest:" + userPassword);
    }
    SynodGrpc.SynodBlockingStub stub = SynodGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    return request -> {
      SynodGrpc.SynodBlockingStub s = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
      try {
        switch (request.getOpCase()) {
          case GET_DATA -> s.getData(request.getGetData());
          case GET_CHILDREN -> s.getChildren(request.getGetChildren());
          case GET_ACL -> s.getAcl(request.getGetAcl());
          case EXISTS -> s.exists(request.getExists());
          case SET_DATA -> s.setData(request.getSetData());
          case CREATE -> s.create(request.getCreate());
          case DELETE -> s.delete(request.getDelete());
          case SET_ACL -> s.setAcl(request.getSetAcl());
          case MULTI -> s.multi(request.getMulti());
          case GET_QUOTA -> s.getQuota(request.getGetQuota());
          case SET_QUOTA -> s.setQuota(request.getSetQuota());
          case ADD_WATCH -> {
            AddWatchRequest add = request.getAddWatch();
            Iterator<WatchEvent> events = s.watch(WatchRequest.newBuilder().setPath(add.getPath())
                .setKind(add.getKind()).setStartZxid(add.getStartZxid()).build());
            WatchEvent first = events.next(); // the replayed creation, or the refusal
            assertEquals(add.getPath(), first.getPath());
          }
          default -> throw new IllegalArgumentException("not in the table: " + request.getOpCase());
        }
        return new Outcome(ErrorReason.ERROR_REASON_UNSPECIFIED, -1);
      } catch (StatusRuntimeException e) {
        ErrorReason reason = ErrorStatus.reasonOf(e);
        assertEquals(ErrorStatus.codeOf(reason), e.getStatus().getCode(), "status code of " + reason);
        int opIndex = -1;
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status != null) {
          for (com.google.protobuf.Any any : status.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
              String index = any.unpack(ErrorInfo.class).getMetadataOrDefault("op_index", "-1");
              opIndex = Integer.parseInt(index);
            }
          }
        }
        return new Outcome(reason, opIndex);
      }
    };
  }
}
