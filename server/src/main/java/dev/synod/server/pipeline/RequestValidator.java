package dev.synod.server.pipeline;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import java.util.List;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.SessionRef;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.state.NodeRules;
import dev.synod.server.state.Paths;
import dev.synod.server.state.SynodException;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.Txn;

/**
 * Checks what can be checked without the state (path syntax, sizes, shape, kind, ttl, ACL
 * entries) before a request reaches the log, so malformed input is refused early with a precise
 * reason and never written. This is where this server's per-request limits (data-bytes-max,
 * path-bytes-max for the paths creates make, multi-ops-max) are enforced, on whichever member
 * the request enters (a follower before it forwards, a leader before it proposes): apply never
 * reads a setting, so members with different settings still decide alike. Everything that
 * depends on the state is decided by apply, deterministically.
 */
public final class RequestValidator {
  private final ServerConfig config;
  private final List<Acl> defaultAcl;

  public RequestValidator(ServerConfig config) {
    this.config = config;
    this.defaultAcl = config.defaultAclEntries();
  }

  /**
   * Validates a read on the session stream or a unary read. The switches over ops here are
   * expressions, so an op added to the proto does not compile until it is handled.
   */
  public void checkRead(Request request) throws SynodException {
    path(switch (request.getOpCase()) {
      case GET_DATA -> request.getGetData().getPath();
      case EXISTS -> request.getExists().getPath();
      case GET_CHILDREN -> request.getGetChildren().getPath();
      case GET_ACL -> request.getGetAcl().getPath();
      case GET_QUOTA -> request.getGetQuota().getPath();
      case ADD_WATCH -> request.getAddWatch().getPath();
      case REMOVE_WATCH -> request.getRemoveWatch().getPath();
      case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA, SYNC, STATUS, ADD_AUTH, OP_NOT_SET ->
          throw notA("read", request.getOpCase());
    });
  }

  /**
   * Turns a write into a Txn (without zxid, time or session). Ops must not carry a SessionRef:
   * on the stream the session is implicit, and unary callers resolve and clear it first.
   */
  public Txn.Builder writeTxn(Request request) throws SynodException {
    Txn.Builder txn = switch (request.getOpCase()) {
      case CREATE -> Txn.newBuilder().setCreate(create(request.getCreate()));
      case DELETE -> Txn.newBuilder().setDelete(delete(request.getDelete()));
      case SET_DATA -> Txn.newBuilder().setSetData(setData(request.getSetData()));
      case SET_ACL -> Txn.newBuilder().setSetAcl(setAcl(request.getSetAcl()));
      case MULTI -> Txn.newBuilder().setMulti(multi(request.getMulti()));
      case SET_QUOTA -> Txn.newBuilder().setSetQuota(setQuota(request.getSetQuota()));
      case GET_DATA, EXISTS, GET_CHILDREN, GET_ACL, GET_QUOTA, ADD_WATCH, REMOVE_WATCH, SYNC,
          STATUS, ADD_AUTH, OP_NOT_SET -> throw notA("write", request.getOpCase());
    };
    long after = request.getAfterRequestNo();
    if (after != 0 && Long.compareUnsigned(after, request.getRequestNo()) >= 0) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "after_request_no (" + Long.toUnsignedString(after)
          + ") must name an earlier write of the session than request_no (" + Long.toUnsignedString(request.getRequestNo()) + ")");
    }
    return txn.setAfterRequestNo(after);
  }

  private CreateRequest create(CreateRequest create) throws SynodException {
    noSession(create.hasSession() ? create.getSession() : null);
    Paths.validateForCreate(create.getPath(), create.getSequential(), config.pathBytesMax());
    Paths.checkNotSystem(create.getPath());
    NodeRules.checkKindAndTtl(create);
    NodeRules.checkAcl(create.getAclList(), create.getPath());
    data(create.getData(), create.getPath());
    if (create.getAclCount() == 0) {
      // This server's default-acl goes into the log, so every member stores the same ACL.
      return create.toBuilder().addAllAcl(defaultAcl).build();
    }
    return create;
  }

  private static SetQuotaRequest setQuota(SetQuotaRequest setQuota) throws SynodException {
    noSession(setQuota.hasSession() ? setQuota.getSession() : null);
    writablePath(setQuota.getPath());
    return setQuota;
  }

  private static DeleteRequest delete(DeleteRequest delete) throws SynodException {
    noSession(delete.hasSession() ? delete.getSession() : null);
    writablePath(delete.getPath());
    version("version", delete.hasVersion(), delete.getVersion(), delete.getPath());
    return delete;
  }

  private SetDataRequest setData(SetDataRequest set) throws SynodException {
    noSession(set.hasSession() ? set.getSession() : null);
    writablePath(set.getPath());
    version("version", set.hasVersion(), set.getVersion(), set.getPath());
    data(set.getData(), set.getPath());
    return set;
  }

  private static SetAclRequest setAcl(SetAclRequest setAcl) throws SynodException {
    noSession(setAcl.hasSession() ? setAcl.getSession() : null);
    writablePath(setAcl.getPath());
    version("aversion", setAcl.hasAversion(), setAcl.getAversion(), setAcl.getPath());
    NodeRules.checkAcl(setAcl.getAclList(), setAcl.getPath());
    return setAcl;
  }

  /** A request on the wrong path: the caller routes by op, so this is a bug, answered precisely. */
  private static SynodException notA(String what, Request.OpCase op) {
    return new SynodException(ErrorReason.BAD_ARGUMENT, op == Request.OpCase.OP_NOT_SET
        ? "request has no operation set" : op + " is not a " + what);
  }

  /**
   * The CreateSessionTxn of a session opened on this server: the negotiated timeout, and this
   * server's dedup window, which the session keeps on every member (apply reads it from the log).
   */
  public CreateSessionTxn.Builder newSession(long timeoutMs) {
    return CreateSessionTxn.newBuilder()
        .setTimeoutMs(timeoutMs)
        .setRecentResultsMax(config.recentResultsPerSession());
  }

  private MultiRequest multi(MultiRequest multi) throws SynodException {
    noSession(multi.hasSession() ? multi.getSession() : null);
    if (multi.getOpsCount() > config.multiOpsMax()) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT,
          "multi has " + multi.getOpsCount() + " ops; the limit is " + config.multiOpsMax());
    }
    MultiRequest.Builder checked = MultiRequest.newBuilder();
    for (int i = 0; i < multi.getOpsCount(); i++) {
      try {
        checked.addOps(op(multi.getOps(i)));
      } catch (SynodException e) {
        throw new SynodException(e.reason(), "op " + i + ": " + e.getMessage(), e.path());
      }
    }
    return checked.build(); // what goes to the log is exactly what was checked
  }

  private Op op(Op op) throws SynodException {
    return switch (op.getOpCase()) {
      case CHECK -> {
        path(op.getCheck().getPath());
        version("version", op.getCheck().hasVersion(), op.getCheck().getVersion(), op.getCheck().getPath());
        yield op;
      }
      case CREATE -> Op.newBuilder().setCreate(create(op.getCreate())).build();
      case DELETE -> Op.newBuilder().setDelete(delete(op.getDelete())).build();
      case SET_DATA -> Op.newBuilder().setSetData(setData(op.getSetData())).build();
      case OP_NOT_SET -> throw new SynodException(ErrorReason.BAD_ARGUMENT, "op has no operation set");
    };
  }

  /**
   * A path that names an existing node: syntax only. Its length was the business of the server
   * where the node was created; refusing it here would hide, on a member with a smaller
   * path-bytes-max, a node every member holds.
   */
  private static void path(String path) throws SynodException {
    Paths.validate(path);
  }

  /** A path a client write changes: valid syntax, and not the system's ({@link Paths#SYSTEM}). */
  private static void writablePath(String path) throws SynodException {
    Paths.validate(path);
    Paths.checkNotSystem(path);
  }

  /**
   * An expected version is -1 (any) or a version a node can have (0 and up); anything below -1 is
   * a malformed request (BAD_ARGUMENT), not a condition that failed (BAD_VERSION).
   */
  private static void version(String field, boolean present, int expected, String path)
      throws SynodException {
    if (present && expected < -1) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, field + " " + expected + " is not valid for "
          + path + ": expect -1 (any version) or a version >= 0", path);
    }
  }

  private void data(ByteString data, String path) throws SynodException {
    if (data.size() > config.dataBytesMax()) {
      throw new SynodException(ErrorReason.VALUE_TOO_LARGE,
          "value is " + data.size() + " bytes; the limit is " + config.dataBytesMax(), path);
    }
  }

  private static void noSession(SessionRef ref) throws SynodException {
    if (ref != null) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT,
          "session must not be set here (it is implicit on the session stream and in multi ops)");
    }
  }
}
