package dev.synod.server.state;

import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.AddWatchResponse;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.ExistsResponse;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetAclResponse;
import com.google.protobuf.CodedOutputStream;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetChildrenResponse;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.GetDataResponse;
import dev.synod.api.v1.GetQuotaRequest;
import dev.synod.api.v1.GetQuotaResponse;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import dev.synod.api.v1.RemoveWatchRequest;
import dev.synod.api.v1.RemoveWatchResponse;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.util.List;
import java.util.Iterator;

/**
 * Serves reads and watch registrations. Runs under the state machine's read lock: the tree, the
 * session table and the history do not change meanwhile; the watch manager guards itself. Paths
 * are checked for syntax here; their length is the entry server's limit, checked before.
 */
final class ReadOps {
  private final DataTree tree;
  private final SessionTable sessions;
  private final WatchManager watches;
  private final EventHistory history;
  private final WatchDispatcher dispatcher;
  private final StateLimits limits;

  ReadOps(DataTree tree, SessionTable sessions, WatchManager watches, EventHistory history,
      WatchDispatcher dispatcher, StateLimits limits) {
    this.tree = tree;
    this.sessions = sessions;
    this.watches = watches;
    this.history = history;
    this.dispatcher = dispatcher;
    this.limits = limits;
  }

  /** Serves {@code request} for a caller holding {@code who}, checking the node's ACL first. */
  Response read(long watcherId, Identities who, Request request, long lastZxid) {
    Response.Builder response =
        Response.newBuilder().setRequestNo(request.getRequestNo()).setZxid(lastZxid);
    try {
      // An expression (its value is the same builder), so a new op does not compile until handled.
      response = switch (request.getOpCase()) {
        case GET_DATA -> response.setGetData(getData(watcherId, who, request.getGetData()));
        case EXISTS -> response.setExists(exists(watcherId, who, request.getExists()));
        case GET_CHILDREN ->
            response.setGetChildren(getChildren(watcherId, who, request.getGetChildren()));
        case GET_ACL -> response.setGetAcl(getAcl(who, request.getGetAcl()));
        case GET_QUOTA -> response.setGetQuota(getQuota(who, request.getGetQuota()));
        case ADD_WATCH ->
            response.setAddWatch(addWatch(watcherId, who, request.getAddWatch(), lastZxid));
        case REMOVE_WATCH ->
            response.setRemoveWatch(removeWatch(watcherId, request.getRemoveWatch()));
        // Writes, Syncs, Status and add_auth go elsewhere; one routed here by mistake is
        // answered, not lost.
        case CREATE, DELETE, SET_DATA, SET_ACL, MULTI, SET_QUOTA, SYNC, STATUS, ADD_AUTH, OP_NOT_SET ->
            throw new SynodException(ErrorReason.BAD_ARGUMENT,
                request.getOpCase() == Request.OpCase.OP_NOT_SET ? "request has no operation set"
                    : request.getOpCase() + " is not a read the state machine serves");
      };
    } catch (SynodException e) {
      response.setError(e.toError());
    }
    return response.build();
  }

  private GetDataResponse getData(long watcherId, Identities who, GetDataRequest request)
      throws SynodException {
    Node node = existingAndWatched(watcherId, who, request.getPath(), request.getWatch(),
        WatchKind.WATCH_DATA);
    return GetDataResponse.newBuilder().setData(node.data()).setStat(node.stat()).build();
  }

  /**
   * The node at {@code path} (NO_NODE if missing), leaving a one-shot watch of {@code kind} when
   * asked; the watch is registered only if the node exists and {@code who} may READ it (NO_AUTH
   * otherwise, and no watch), as in ZooKeeper.
   */
  private Node existingAndWatched(long watcherId, Identities who, String path, boolean watch,
      WatchKind kind) throws SynodException {
    Paths.validate(path);
    if (watch) {
      requireWatcher(watcherId, "one-shot watches need a session stream", path);
    }
    Node node = tree.existing(path);
    Acls.check(node.acl, Acls.READ, who, path);
    if (watch) {
      watches.register(watcherId, who, path, kind, false, null);
    }
    return node;
  }

  /** Exists needs no permission (ZooKeeper's rule): the stat is not the node's data. */
  private ExistsResponse exists(long watcherId, Identities who, ExistsRequest request)
      throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    if (request.getWatch()) {
      requireWatcher(watcherId, "one-shot watches need a session stream", path);
      watches.register(watcherId, who, path, WatchKind.WATCH_EXISTS, false, null);
    }
    Node node = tree.get(path);
    ExistsResponse.Builder result = ExistsResponse.newBuilder().setExists(node != null);
    if (node != null) {
      result.setStat(node.stat());
    }
    return result.build();
  }

  private GetChildrenResponse getChildren(long watcherId, Identities who,
      GetChildrenRequest request) throws SynodException {
    String path = request.getPath();
    Node node = existingAndWatched(watcherId, who, path, request.getWatch(),
        WatchKind.WATCH_CHILDREN);
    long asked = Integer.toUnsignedLong(request.getLimit());
    int limit = asked == 0 || asked > limits.childrenPageMax()
        ? limits.childrenPageMax() : (int) asked;
    Iterator<Node> after =
        tree.children(node, request.getCursor().isEmpty() ? null : request.getCursor());
    GetChildrenResponse.Builder result = GetChildrenResponse.newBuilder().setStat(node.stat());
    // A page ends at the count limit or before the names' bytes would pass CHILDREN_PAGE_BYTES_MAX.
    String last = null;
    long bytes = 0;
    while (after.hasNext()) {
      String name = after.next().name();
      int size = CodedOutputStream.computeStringSize(GetChildrenResponse.CHILDREN_FIELD_NUMBER, name);
      if (result.getChildrenCount() == limit || (result.getChildrenCount() > 0
          && bytes + size > StateLimits.CHILDREN_PAGE_BYTES_MAX)) {
        result.setNextCursor(last); // more remain
        break;
      }
      result.addChildren(name);
      bytes += size;
      last = name;
    }
    return result.build();
  }

  /** READ or ADMIN on the node (ZooKeeper 3.5's rule: an ACL can name users). */
  private GetAclResponse getAcl(Identities who, GetAclRequest request) throws SynodException {
    Paths.validate(request.getPath());
    Node node = tree.existing(request.getPath());
    Acls.check(node.acl, Acls.READ | Acls.ADMIN, who, request.getPath());
    return GetAclResponse.newBuilder().addAllAcl(node.acl).setStat(node.stat()).build();
  }

  /** The node's quota and its subtree's usage; READ or ADMIN on the node. */
  private GetQuotaResponse getQuota(Identities who, GetQuotaRequest request) throws SynodException {
    Paths.validate(request.getPath());
    Node node = tree.existing(request.getPath());
    Acls.check(node.acl, Acls.READ | Acls.ADMIN, who, request.getPath());
    GetQuotaResponse.Builder result = GetQuotaResponse.newBuilder().setHasQuota(node.hasQuota());
    Quotas.Usage usage = tree.quotas().usage(request.getPath());
    if (node.hasQuota() && usage != null) {
      result.setQuota(node.quota).setUsage(usage.toProto());
    }
    return result.build();
  }

  /**
   * Registers a persistent watch (READ on the node, when it exists; a watch on a path that does
   * not exist yet is allowed, and its events are filtered by each node's ACL). With a start zxid it first replays the retained changes after
   * it that the watch matches, or sends RESYNC_NEEDED when history no longer reaches back that
   * far. The read lock keeps apply out, so replay and registration leave no gap and no overlap.
   */
  private AddWatchResponse addWatch(long watcherId, Identities who, AddWatchRequest request,
      long lastZxid) throws SynodException {
    String path = request.getPath();
    WatchKind kind = request.getKind();
    if (kind != WatchKind.WATCH_PERSISTENT && kind != WatchKind.WATCH_PERSISTENT_RECURSIVE) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT,
          "add_watch kind must be WATCH_PERSISTENT or WATCH_PERSISTENT_RECURSIVE", path);
    }
    Paths.validate(path);
    requireWatcher(watcherId, "watches need a session stream or a Watch stream", path);
    Node node = tree.get(path);
    if (node != null) {
      Acls.check(node.acl, Acls.READ, who, path);
    }
    long start = request.getStartZxid();
    if (Long.compareUnsigned(start, lastZxid) > 0) {
      throw new SynodException(ErrorReason.SESSION_ZXID_AHEAD, "start_zxid "
          + Long.toUnsignedString(start) + " is ahead of this server's last zxid " + lastZxid,
          path);
    }
    boolean includeData = request.getIncludeData();
    Runnable replay =
        start == 0 ? null : () -> replay(watcherId, who, path, kind, includeData, start);
    watches.register(watcherId, who, path, kind, includeData, replay);
    return AddWatchResponse.newBuilder().setZxid(lastZxid).build();
  }

  private void replay(long watcherId, Identities who, String path, WatchKind kind,
      boolean includeData, long startZxid) {
    List<WatchTarget> fired = List.of(WatchTarget.newBuilder().setPath(path).setKind(kind).build());
    long floor = history.floor();
    if (Long.compareUnsigned(startZxid, floor) < 0) {
      dispatcher.dispatch(watcherId, WatchEvent.newBuilder()
          .setType(EventType.RESYNC_NEEDED).setPath(path).setZxid(floor).addAllFired(fired)
          .build());
      return;
    }
    history.forEachAfter(startZxid, change -> {
      if (WatchManager.fires(kind, path, change.type(), change.path())
          && WatchManager.mayRead(who, change)) {
        dispatcher.dispatch(watcherId, change.toWatchEvent(includeData, fired));
      }
    });
  }

  private RemoveWatchResponse removeWatch(long watcherId, RemoveWatchRequest request)
      throws SynodException {
    String path = request.getPath();
    Paths.validate(path);
    WatchKind kind = request.getKind();
    if (kind == WatchKind.UNRECOGNIZED) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "unknown watch kind", path);
    }
    return RemoveWatchResponse.newBuilder().setRemoved(watches.remove(watcherId, path, kind))
        .build();
  }

  /**
   * A watch needs somewhere to deliver its events: watcher 0 is nobody. A positive watcher id is
   * a session, which must still be live: checked under the read lock, so a close_session either
   * comes after this registration (and drops it) or before (and this fails), never leaks it.
   */
  private void requireWatcher(long watcherId, String message, String path) throws SynodException {
    if (watcherId == 0) {
      throw new SynodException(ErrorReason.BAD_ARGUMENT, "cannot watch " + path + ": " + message, path);
    }
    if (watcherId > 0 && sessions.get(watcherId) == null) {
      throw new SynodException(ErrorReason.SESSION_EXPIRED,
          "session " + watcherId + " is unknown, closed or expired", path);
    }
  }
}
