package dev.synod.server.state;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CheckResponse;
import dev.synod.api.v1.DeleteResponse;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.MultiResponse;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.OpResult;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetAclResponse;
import dev.synod.api.v1.SetDataResponse;
import dev.synod.api.v1.SetQuotaResponse;
import dev.synod.server.auth.Identities;
import dev.synod.txn.v1.CachedResult;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies one Txn to the tree and the session table: a pure function of (state, Txn, effective
 * time), reading no setting. It returns what happened (the Response, the changes for watches and
 * history, a session that ended) and leaves dispatching to the caller. Expected failures become a
 * Response with {@code error} and leave the state untouched; a RuntimeException means a bug, and
 * the tree is rolled back before it propagates.
 */
final class TxnApplier {
  private final DataTree tree;
  private final SessionTable sessions;
  private final TreeOps ops;
  private final RequestDigest digest = new RequestDigest();

  /** What applying one Txn did. {@code endedSessionId} is 0 unless a session ended. */
  record Outcome(Response response, List<Change> changes, long endedSessionId, boolean expired) {
    static Outcome of(Response response) {
      return new Outcome(response, List.of(), 0, false);
    }
  }

  TxnApplier(DataTree tree, SessionTable sessions) {
    this.tree = tree;
    this.sessions = sessions;
    this.ops = new TreeOps(tree);
  }

  /**
   * Applies {@code txn} at {@code timeMs}, its effective time (the caller's max of the decided
   * time so far and the Txn's stamp): ctime, mtime and TTL expiry use it, never the raw stamp.
   */
  Outcome apply(Txn txn, long timeMs) {
    TreeOps.Context ctx = new TreeOps.Context(txn.getZxid(), timeMs, txn.getSessionId(),
        Identities.of(txn.getIdentitiesList()));
    Response.Builder response =
        Response.newBuilder().setRequestNo(txn.getRequestNo()).setZxid(txn.getZxid());
    try {
      return switch (txn.getOpCase()) {
        case CREATE_SESSION -> createSession(txn, response);
        case CLOSE_SESSION -> closeSession(ctx, txn.getCloseSession().getExpired(), response);
        case EXPIRE_TTL -> {
          ops.expireTtl(ctx, txn.getExpireTtl().getPath(), txn.getExpireTtl().getMzxid());
          ops.reapContainers(ctx);
          tree.commit();
          yield new Outcome(response.build(), ctx.changes, 0, false);
        }
        case NOOP -> Outcome.of(response.build());
        case SET_MEMBERS -> setMembers(ctx, txn.getSetMembers().getMembers(), response);
        case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA -> clientWrite(ctx, txn, response);
        case OP_NOT_SET -> throw new IllegalArgumentException(
            "txn " + txn.getZxid() + " has no op (written by a newer version?)");
      };
    } catch (RuntimeException bug) {
      tree.rollback();
      throw bug;
    }
  }

  private Outcome createSession(Txn txn, Response.Builder response) {
    long id = txn.getSessionId();
    if (id == 0 || sessions.get(id) != null) {
      return Outcome.of(response.setError(error(ErrorReason.BAD_ARGUMENT,
          id == 0 ? "create_session needs a session id" : "session " + id + " already exists"))
          .build());
    }
    sessions.add(id, txn.getCreateSession().getSecret(), txn.getCreateSession().getTimeoutMs(),
        Integer.toUnsignedLong(txn.getCreateSession().getRecentResultsMax()));
    return Outcome.of(response.build());
  }

  /**
   * Stores the decided membership at {@link Paths#MEMBERS}, creating {@link Paths#SYSTEM} first if
   * needed; both are readable by anyone and writable by no client (the entry server refuses
   * client writes under /synod, and their ACL grants only READ). The system writes as super, so a
   * node a client left there before this version is taken over, not a reason to fail.
   */
  private Outcome setMembers(TreeOps.Context ctx, ByteString members, Response.Builder response) {
    TreeOps.Context system = ctx.asSystem();
    try {
      ops.putSystemNode(system, Paths.SYSTEM, ByteString.EMPTY);
      ops.putSystemNode(system, Paths.MEMBERS, members);
      tree.commit();
    } catch (SynodException e) {
      // Only if a client made /synod ephemeral before it was reserved: the membership still
      // governs (consensus holds it), it is just not stored. Deterministic on every replica.
      tree.rollback();
      return Outcome.of(response.setError(e.toError()).build());
    }
    return new Outcome(response.build(), system.changes, 0, false);
  }

  /** Deletes the session's ephemerals in path order (with container cascades), then ends it. */
  private Outcome closeSession(TreeOps.Context ctx, boolean expired, Response.Builder response) {
    long id = ctx.sessionId;
    if (sessions.get(id) == null) {
      return Outcome.of(response.setError(sessionExpired(id)).build());
    }
    for (String path : tree.ephemeralsOf(id)) {
      ops.deleteNode(ctx, path);
      ops.reapContainers(ctx);
    }
    tree.commit();
    sessions.remove(id);
    return new Outcome(response.build(), ctx.changes, id, expired);
  }

  /**
   * A client's write: session check, dedup by request number, then the op itself. A request
   * number already applied answers the kept result only if the write is the same one (same
   * digest); a different write under a used number is REQUEST_NO_REUSED and changes nothing.
   */
  private Outcome clientWrite(TreeOps.Context ctx, Txn txn, Response.Builder response) {
    SessionTable.Session session = null;
    if (txn.getSessionId() != 0) {
      session = sessions.get(txn.getSessionId());
      if (session == null) {
        return Outcome.of(response.setError(sessionExpired(txn.getSessionId())).build());
      }
    }
    long requestNo = txn.getRequestNo();
    boolean deduplicated = session != null && requestNo != 0;
    ByteString requestDigest = deduplicated ? digest.of(txn) : ByteString.EMPTY;
    if (deduplicated && Long.compareUnsigned(requestNo, session.lastRequestNo()) <= 0) {
      CachedResult cached = session.cachedResult(requestNo);
      if (cached == null) {
        String last = Long.toUnsignedString(session.lastRequestNo());
        String no = Long.toUnsignedString(requestNo);
        return Outcome.of(response.setError(error(ErrorReason.REQUEST_TOO_OLD,
            session.mayHaveLeftWindow(requestNo)
                ? "request " + no + " is older than the " + session.recentResultsMax + " results this"
                    + " session keeps for retries (last applied " + last + "), so whether it applied"
                    + " cannot be told; a new write needs a request_no above " + last
                : "request " + no + " was never applied by this session, and its number is below the"
                    + " last one applied (" + last + "); request numbers of writes must increase:"
                    + " a new write needs a request_no above " + last))
            .build());
      }
      // An empty digest was kept by a version that did not record one: it cannot tell.
      if (!cached.getRequestDigest().isEmpty() && !cached.getRequestDigest().equals(requestDigest)) {
        return Outcome.of(response.setError(error(ErrorReason.REQUEST_NO_REUSED,
            "request_no " + Long.toUnsignedString(requestNo) + " was already used by this session"
                + " for a different write (applied at zxid " + cached.getZxid() + "); a retry must"
                + " repeat that write exactly, a new write needs a new request_no")).build());
      }
      return Outcome.of(cached.getResponse()); // the original result, not applied again
    }
    if (deduplicated && Long.compareUnsigned(txn.getAfterRequestNo(), session.lastRequestNo()) > 0) {
      // FIFO: the write it follows has not applied (lost with a leader, timed out in a queue).
      // Refused, not recorded: it never overtakes, and may apply once resent behind it.
      return Outcome.of(response.setLastAppliedRequestNo(session.lastRequestNo())
          .setError(error(ErrorReason.OUT_OF_ORDER, "request " + Long.toUnsignedString(requestNo)
              + " follows request " + Long.toUnsignedString(txn.getAfterRequestNo())
              + ", which has not been applied (last applied " + Long.toUnsignedString(session.lastRequestNo())
              + "); send the session's unapplied writes again, in order")).build());
    }
    try {
      // An expression (its value is the same builder), so a new op does not compile until handled.
      response = switch (txn.getOpCase()) {
        case CREATE -> response.setCreate(ops.create(ctx, txn.getCreate()));
        case DELETE -> {
          ops.delete(ctx, txn.getDelete());
          yield response.setDelete(DeleteResponse.getDefaultInstance());
        }
        case SET_DATA -> response.setSetData(
            SetDataResponse.newBuilder().setStat(ops.setData(ctx, txn.getSetData())));
        case SET_ACL -> response.setSetAcl(
            SetAclResponse.newBuilder().setStat(ops.setAcl(ctx, txn.getSetAcl())));
        case MULTI -> response.setMulti(multi(ctx, txn.getMulti()));
        case SET_QUOTA -> response.setSetQuota(
            SetQuotaResponse.newBuilder().setUsage(ops.setQuota(ctx, txn.getSetQuota())));
        case CREATE_SESSION, CLOSE_SESSION, EXPIRE_TTL, NOOP, SET_MEMBERS, OP_NOT_SET ->
            throw new IllegalStateException("not a client write: " + txn.getOpCase());
      };
      ops.reapContainers(ctx);
      tree.commit();
    } catch (SynodException e) {
      tree.rollback();
      ctx.changes.clear();
      response.setError(e.toError());
      if (txn.hasMulti()) {
        response.setMulti(MultiFailure.perOpResults(txn.getMulti().getOpsCount(), e.toError()));
      }
    }
    Response result = response.build();
    if (deduplicated) {
      sessions.recordResult(session, requestNo, txn.getZxid(), requestDigest, result);
    }
    return new Outcome(result, ctx.changes, 0, false);
  }

  /**
   * Applies every op in order against the real tree. On the first failure it throws (the caller
   * rolls back and drops the events) with the failing op's error, prefixed "op N: "; see
   * {@link MultiFailure}. Containers emptied by any op are reaped after the last op, so an op may
   * still use a container that an earlier op emptied.
   */
  private MultiResponse multi(TreeOps.Context ctx, MultiRequest multi) throws SynodException {
    List<OpResult> results = new ArrayList<>(multi.getOpsCount());
    for (int i = 0; i < multi.getOpsCount(); i++) {
      try {
        results.add(applyOp(ctx, multi.getOps(i)));
      } catch (SynodException e) {
        throw SynodException.of(MultiFailure.responseError(i, e.toError()));
      }
    }
    return MultiResponse.newBuilder().addAllResults(results).build();
  }

  private OpResult applyOp(TreeOps.Context ctx, Op op) throws SynodException {
    OpResult.Builder result = OpResult.newBuilder();
    return switch (op.getOpCase()) {
      case CHECK -> {
        ops.check(ctx, op.getCheck());
        yield result.setCheck(CheckResponse.getDefaultInstance()).build();
      }
      case CREATE -> result.setCreate(ops.create(ctx, op.getCreate())).build();
      case DELETE -> {
        ops.delete(ctx, op.getDelete());
        yield result.setDelete(DeleteResponse.getDefaultInstance()).build();
      }
      case SET_DATA -> result.setSetData(
          SetDataResponse.newBuilder().setStat(ops.setData(ctx, op.getSetData()))).build();
      case OP_NOT_SET -> throw new SynodException(ErrorReason.BAD_ARGUMENT, "op has no operation");
    };
  }

  private static Error sessionExpired(long id) {
    return error(ErrorReason.SESSION_EXPIRED, "session " + Long.toUnsignedString(id)
        + " is unknown, closed or expired");
  }

  private static Error error(ErrorReason reason, String message) {
    return Error.newBuilder().setReason(reason).setMessage(message).build();
  }
}
