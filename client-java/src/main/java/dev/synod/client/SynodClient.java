package dev.synod.client;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.AddAuthRequest;
import dev.synod.api.v1.Credential;
import dev.synod.api.v1.GetQuotaRequest;
import dev.synod.api.v1.GetQuotaResponse;
import dev.synod.api.v1.Identity;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.QuotaUsage;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CloseSessionRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.EventType;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Heartbeat;
import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.OpResult;
import dev.synod.api.v1.OpenSessionRequest;
import dev.synod.api.v1.RemoveWatchRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.ResumeSession;
import dev.synod.api.v1.ServerMessage;
import dev.synod.api.v1.SessionEnded;
import dev.synod.api.v1.SessionOpened;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SyncRequest;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchTarget;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A Synod client: one session over one Session stream at a time, with failover across the
 * servers of the connect string, session resumption, request re-sending (deduplicated by the
 * server through the per-session request number) and watch re-registration.
 *
 * <pre>{@code
 * try (SynodClient client = SynodClient.builder().connectString("127.0.0.1:7070,127.0.0.1:7080")
 *     .sessionTimeout(Duration.ofSeconds(10)).build()) {
 *   client.start();
 *   client.blockUntilConnected(Duration.ofSeconds(5));
 *   client.create("/app", "hello".getBytes());
 * }
 * }</pre>
 *
 * <p>Deadlines: by default a call waits as long as the session lives (through failovers and
 * resumes). {@link #withDeadline} (or the builder's {@code defaultDeadline}) bounds each call: one
 * not answered in time fails with {@link DeadlineExceededException} and is never sent again.
 *
 * <p>Inside, the client is a few parts with one job each: {@code Session} (the session's life
 * over one stream at a time, failover, resume, heartbeats, expiry), {@code RequestPipeline}
 * (numbering, ordering, re-sending and deadlines of requests), {@code WatchRegistry} (watchers,
 * event delivery, re-registration), {@code Servers} (server selection and channels),
 * {@code StateTracker} and {@code Callbacks} (hand-over to user code); this class is the API.
 *
 * <p>Threading: all protocol state lives on one internal event-loop thread, which is also the
 * executor of this client's gRPC channels, so the stream's callbacks run on it without a further
 * hand-over. Watch events and state changes are delivered in order on a dedicated watch thread;
 * the futures of the asynchronous methods complete on a callback pool (so code chained to them
 * may block), while a synchronous method's answer is handed straight from the loop to the
 * waiting caller. Synchronous methods may be called from watchers and listeners.
 *
 * <p>Liveness: only the cluster's leader expires sessions, so silence is not the only danger: a
 * server cut off from the leader may keep answering while the majority expires the session. A
 * heartbeat reply is therefore trusted only when the server says it is confirmed (in touch with
 * the leader), and then only for the time left it reports, counted from when the heartbeat was
 * sent ({@link #confirmedTimeLeft()}). The client is SUSPENDED, and moves to another server, when
 * a server says it cannot confirm or when less than a sixth of the timeout stays confirmed; it is
 * RECONNECTED once a server confirms the session again.
 */
public final class SynodClient implements AutoCloseable {
  private final ClientCore core;
  /** This view's per-call deadline; null: none. */
  private final Duration deadline;
  /** Whether this view's reads are linearizable (see {@link #linearizable()}). */
  private final boolean linearizable;

  private SynodClient(ClientCore core, Duration deadline) {
    this(core, deadline, false);
  }

  private SynodClient(ClientCore core, Duration deadline, boolean linearizable) {
    this.core = core;
    this.deadline = deadline;
    this.linearizable = linearizable;
  }

  /** A builder; {@link Builder#connectString} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ===========================================================================================
  // Lifecycle

  /** Starts connecting (returns at once). Calls made before the session is open wait for it. */
  public SynodClient start() {
    core.start();
    return this;
  }

  /** Waits until the client is CONNECTED or RECONNECTED; false on timeout or once closed. */
  public boolean blockUntilConnected(Duration timeout) throws InterruptedException {
    return core.state.awaitConnected(timeout);
  }

  /** Whether the servers refused this client's credentials (it has stopped connecting). */
  public boolean authFailed() {
    return core.session.authFailure() != null;
  }

  /** The current state; null before the first connection. */
  public ConnectionState state() {
    return core.state.get();
  }

  /** The current session id (0 when there is none). */
  public long sessionId() {
    return core.session.sessionId();
  }

  /** The negotiated session timeout (the requested one until a server has answered). */
  public Duration sessionTimeout() {
    return Duration.ofMillis(core.session.timeoutMs());
  }

  /** The highest zxid this client has seen. */
  public long lastZxidSeen() {
    return core.session.lastZxidSeen();
  }

  /**
   * How long ago this client last heard from a server (any answer, event or heartbeat reply).
   * Hearing from a server does not mean the session is alive: one cut off from the leader may
   * still answer. See {@link #confirmedTimeLeft()} for what the servers vouch for.
   */
  public Duration sinceLastHeard() {
    return Duration.ofNanos(core.session.sinceHeardNanos());
  }

  /**
   * How long the session is certainly alive on the servers: the time left reported by the last
   * confirmed heartbeat reply, counted from when that heartbeat was sent (for a new session, from
   * when it was requested); zero once run out. Servers confirm a session only while they are in
   * touch with the leader, which alone expires sessions, so this, not {@link #sinceLastHeard()},
   * is what ownership through ephemeral nodes (locks, leases, leadership) can rely on. The client
   * goes SUSPENDED and tries another server well before it runs out.
   */
  public Duration confirmedTimeLeft() {
    return Duration.ofNanos(core.session.confirmedLeftNanos());
  }

  /** The server the current stream is to (null when disconnected). */
  public InetSocketAddress currentServer() {
    return core.session.currentServer();
  }

  /** Tells {@code listener} of every state change, in order, on the client's event thread. */
  public void addConnectionStateListener(ConnectionStateListener listener) {
    core.state.addListener(listener);
  }

  /** Stops telling {@code listener} of state changes (recipes call this when they close). */
  public void removeConnectionStateListener(ConnectionStateListener listener) {
    core.state.removeListener(listener);
  }

  /** After EXPIRED: opens a new session (ephemerals of the old one are gone). */
  public void restartSession() {
    core.loop.execute(core.session::restart);
  }

  /**
   * The same client (same session, state and watches), whose calls each fail with
   * {@link DeadlineExceededException} when not answered within {@code deadline} from the call;
   * a request past its deadline is never sent again. For getChildren the deadline covers every
   * page. Closing the view closes the client.
   *
   * <pre>{@code
   * NodeData d = client.withDeadline(Duration.ofMillis(500)).getData("/config");
   * }</pre>
   *
   * @throws IllegalArgumentException a deadline that is not positive
   */
  public SynodClient withDeadline(Duration deadline) {
    if (deadline == null || deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("deadline must be positive, got " + deadline);
    }
    return new SynodClient(core, deadline, linearizable);
  }

  /** The same client without a per-call deadline (calls wait as long as the session lives). */
  public SynodClient withoutDeadline() {
    return deadline == null ? this : new SynodClient(core, null, linearizable);
  }

  /**
   * The same client (same session, state and watches), whose reads ({@code getData},
   * {@code exists}, {@code getChildren}) are linearizable: each reflects every write acknowledged
   * to any client, through any server, before it was sent. The server first confirms with a
   * quorum that it has applied as far as the leader's commit (the reads that arrive together share
   * one round), so a read costs a round trip to the leader, and a server cut off from the quorum
   * refuses it rather than answer from what may be stale. The plain client's reads are
   * sequentially consistent: never older than what this session has seen, as in ZooKeeper; this
   * is one call instead of {@code sync()} and a read. Closing the view closes the client.
   *
   * <pre>{@code
   * byte[] leaderAddress = client.linearizable().getData("/service/leader").data();
   * }</pre>
   */
  public SynodClient linearizable() {
    return linearizable ? this : new SynodClient(core, deadline, true);
  }

  /** Whether this view's reads are linearizable. */
  public boolean isLinearizable() {
    return linearizable;
  }

  /** This client's per-call deadline, if it has one. */
  public java.util.Optional<Duration> deadline() {
    return java.util.Optional.ofNullable(deadline);
  }

  /** Closes the session (deleting its ephemerals) and releases every resource. Idempotent. */
  @Override
  public void close() {
    core.close();
  }

  // ===========================================================================================
  // Operations (asynchronous, each with a synchronous twin)

  /** Creates a node as {@code options} say (persistent, ephemeral, sequential, TTL, ACL); completes with the path created and its stat. */
  public CompletableFuture<CreateResult> createAsync(String path, byte[] data, CreateOptions options) {
    return create(path, data, options, false);
  }

  /** Synchronous {@link #createAsync}. */
  public CreateResult create(String path, byte[] data, CreateOptions options) {
    return await(create(path, data, options, true));
  }

  private CompletableFuture<CreateResult> create(String path, byte[] data, CreateOptions options, boolean direct) {
    return call(Request.newBuilder().setCreate(options.toRequest(path, data)), null,
        r -> new CreateResult(r.getCreate().getPath(), r.getCreate().getStat()), direct);
  }

  /** Creates a persistent node; returns the path created. */
  public String create(String path, byte[] data) {
    return create(path, data, CreateOptions.PERSISTENT).path();
  }

  /** Deletes the node if its version is {@code version} (-1: any). */
  public CompletableFuture<Void> deleteAsync(String path, int version) {
    return delete(path, version, false);
  }

  /** Synchronous {@link #deleteAsync}. */
  public void delete(String path, int version) {
    await(delete(path, version, true));
  }

  private CompletableFuture<Void> delete(String path, int version, boolean direct) {
    return call(Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(path).setVersion(version)),
        null, r -> null, direct);
  }

  /** Replaces the node's data if its version is {@code version} (-1: any); completes with the new stat. */
  public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
    return setData(path, data, version, false);
  }

  /** Synchronous {@link #setDataAsync}. */
  public Stat setData(String path, byte[] data, int version) {
    return await(setData(path, data, version, true));
  }

  private CompletableFuture<Stat> setData(String path, byte[] data, int version, boolean direct) {
    return call(Request.newBuilder().setSetData(SetDataRequest.newBuilder().setPath(path)
        .setData(ByteString.copyFrom(data)).setVersion(version)), null, r -> r.getSetData().getStat(), direct);
  }

  /** Reads a node; with a watcher, leaves a one-shot data watch (fires on data change or delete). */
  public CompletableFuture<NodeData> getDataAsync(String path, Watcher watcher) {
    return getData(path, watcher, false);
  }

  private CompletableFuture<NodeData> getData(String path, Watcher watcher, boolean direct) {
    return call(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path).setWatch(watcher != null)
        .setLinearizable(linearizable)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            watches().addOneShot(new WatchKey(path, WatchKind.WATCH_DATA), new OneShotWatch(watcher, true, r.getGetData().getStat()));
          }
        },
        r -> new NodeData(r.getGetData().getData().toByteArray(), r.getGetData().getStat(), r.getZxid()), direct);
  }

  /** Synchronous {@link #getDataAsync}. */
  public NodeData getData(String path, Watcher watcher) {
    return await(getData(path, watcher, true));
  }

  /** Reads a node without a watch. */
  public NodeData getData(String path) {
    return getData(path, null);
  }

  /** The node's stat, or null if it does not exist; a watcher fires on create, data change or delete. */
  public CompletableFuture<Stat> existsAsync(String path, Watcher watcher) {
    return exists(path, watcher, false);
  }

  private CompletableFuture<Stat> exists(String path, Watcher watcher, boolean direct) {
    return call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath(path).setWatch(watcher != null)
        .setLinearizable(linearizable)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            watches().addOneShot(new WatchKey(path, WatchKind.WATCH_EXISTS),
                new OneShotWatch(watcher, r.getExists().getExists(), r.getExists().getStat()));
          }
        },
        r -> r.getExists().getExists() ? r.getExists().getStat() : null, direct);
  }

  /** Synchronous {@link #existsAsync}: the stat, or null if the node does not exist. */
  public Stat exists(String path, Watcher watcher) {
    return await(exists(path, watcher, true));
  }

  /** The node's stat, or null if it does not exist; no watch. */
  public Stat exists(String path) {
    return exists(path, null);
  }

  /** One page of children ({@code limit} 0 = the server's maximum), after {@code cursor} ("" = first). */
  public CompletableFuture<ChildrenPage> getChildrenPageAsync(String path, int limit, String cursor, Watcher watcher) {
    return page(path, limit, cursor, watcher, deadlineFromNow());
  }

  private CompletableFuture<ChildrenPage> page(String path, int limit, String cursor, Watcher watcher,
      Deadline deadline) {
    return call(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder().setPath(path)
            .setWatch(watcher != null).setLimit(limit).setCursor(cursor == null ? "" : cursor)
            .setLinearizable(linearizable)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            watches().addOneShot(new WatchKey(path, WatchKind.WATCH_CHILDREN),
                new OneShotWatch(watcher, true, r.getGetChildren().getStat()));
          }
        },
        r -> new ChildrenPage(List.copyOf(r.getGetChildren().getChildrenList()), r.getGetChildren().getStat(),
            r.getGetChildren().getNextCursor(), r.getZxid()), false, deadline);
  }

  /** Synchronous {@link #getChildrenPageAsync}, without a watch. */
  public ChildrenPage getChildrenPage(String path, int limit, String cursor) {
    return await(getChildrenPageAsync(path, limit, cursor, null));
  }

  /**
   * Every child name, fetching all pages; the watcher (if any) is left with the first page. The
   * stat is the one of the last page, the zxid the one of the first page.
   */
  public CompletableFuture<ChildrenPage> getChildrenAsync(String path, Watcher watcher) {
    Deadline deadline = deadlineFromNow(); // one for all the pages
    return page(path, 0, "", watcher, deadline)
        .thenCompose(first -> morePages(path, first, first.zxid(), new ArrayList<>(), deadline));
  }

  private CompletableFuture<ChildrenPage> morePages(String path, ChildrenPage page, long firstZxid, List<String> acc,
      Deadline deadline) {
    acc.addAll(page.children());
    if (page.nextCursor().isEmpty()) {
      return CompletableFuture.completedFuture(new ChildrenPage(List.copyOf(acc), page.stat(), "", firstZxid));
    }
    return page(path, 0, page.nextCursor(), null, deadline)
        .thenCompose(next -> morePages(path, next, firstZxid, acc, deadline));
  }

  /** Every child name (all pages); the watcher, if any, fires on the next change of the children or a delete. */
  public List<String> getChildren(String path, Watcher watcher) {
    return await(getChildrenAsync(path, watcher)).children();
  }

  /** Every child name (all pages), without a watch. */
  public List<String> getChildren(String path) {
    return getChildren(path, null);
  }

  /** Replaces the ACL if the node's aversion is {@code aversion} (-1: any). */
  public CompletableFuture<Stat> setAclAsync(String path, List<Acl> acl, int aversion) {
    return call(Request.newBuilder().setSetAcl(SetAclRequest.newBuilder().setPath(path).addAllAcl(acl).setAversion(aversion)),
        null, r -> r.getSetAcl().getStat());
  }

  /** Synchronous {@link #setAclAsync}. */
  public Stat setAcl(String path, List<Acl> acl, int aversion) {
    return await(setAclAsync(path, acl, aversion));
  }

  /**
   * Proves one more identity (ZooKeeper's addAuth), e.g. {@code addAuth("digest",
   * "bob:secret".getBytes(UTF_8))}. Once accepted it is presented again on every reconnect and
   * session resume. Wrong credentials fail with {@link AuthFailedException} and are forgotten.
   * Completes with every identity the connection holds now.
   */
  public CompletableFuture<List<Identity>> addAuthAsync(String scheme, byte[] auth) {
    Credential credential = Credential.newBuilder().setScheme(scheme)
        .setAuth(com.google.protobuf.ByteString.copyFrom(auth)).build();
    return call(Request.newBuilder().setAddAuth(AddAuthRequest.newBuilder().setCredential(credential)),
        r -> {
          if (!r.hasError()) {
            core.session.credentialAccepted(credential);
          }
        }, r -> List.copyOf(r.getAddAuth().getIdentitiesList()));
  }

  /** Synchronous {@link #addAuthAsync}. */
  public List<Identity> addAuth(String scheme, byte[] auth) {
    return await(addAuthAsync(scheme, auth));
  }

  /** Sets (or, with {@code Quota.getDefaultInstance()}, removes) a subtree's quota; needs ADMIN. */
  public CompletableFuture<QuotaUsage> setQuotaAsync(String path, Quota quota) {
    return call(Request.newBuilder().setSetQuota(SetQuotaRequest.newBuilder().setPath(path).setQuota(quota)),
        null, r -> r.getSetQuota().getUsage());
  }

  /** Synchronous {@link #setQuotaAsync}. */
  public QuotaUsage setQuota(String path, Quota quota) {
    return await(setQuotaAsync(path, quota));
  }

  /** A node's quota and its subtree's usage (has_quota false when it has none). */
  public CompletableFuture<GetQuotaResponse> getQuotaAsync(String path) {
    return call(Request.newBuilder().setGetQuota(GetQuotaRequest.newBuilder().setPath(path)), null,
        r -> r.getGetQuota());
  }

  /** Synchronous {@link #getQuotaAsync}. */
  public GetQuotaResponse getQuota(String path) {
    return await(getQuotaAsync(path));
  }

  /** The node's ACL. */
  public CompletableFuture<List<Acl>> getAclAsync(String path) {
    return call(Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(path)), null,
        r -> List.copyOf(r.getGetAcl().getAclList()));
  }

  /** Synchronous {@link #getAclAsync}. */
  public List<Acl> getAcl(String path) {
    return await(getAclAsync(path));
  }

  /**
   * Applies every op atomically, or none. Returns one result per op; on failure completes with
   * {@link MultiFailedException} (failing index and per-op results).
   */
  public CompletableFuture<List<OpResult>> multiAsync(List<Op> ops) {
    MultiRequest.Builder m = MultiRequest.newBuilder();
    ops.forEach(op -> m.addOps(op.proto));
    return call(Request.newBuilder().setMulti(m), null, r -> List.copyOf(r.getMulti().getResultsList()));
  }

  /** Synchronous {@link #multiAsync}; throws {@link MultiFailedException} when it did not apply. */
  public List<OpResult> multi(List<Op> ops) {
    return await(multiAsync(ops));
  }

  /** Returns once every write accepted before it is applied on this server; answers that zxid. */
  public CompletableFuture<Long> syncAsync() {
    return call(Request.newBuilder().setSync(SyncRequest.newBuilder().setPath("/")), null, r -> r.getSync().getZxid());
  }

  /** Synchronous {@link #syncAsync}. */
  public long sync() {
    return await(syncAsync());
  }

  /** The status of the server this client is connected to (role, zxid, members). */
  public CompletableFuture<StatusResponse> statusAsync() {
    return call(Request.newBuilder().setStatus(StatusRequest.getDefaultInstance()), null, Response::getStatus);
  }

  /** Synchronous {@link #statusAsync}. */
  public StatusResponse status() {
    return await(statusAsync());
  }

  /**
   * Adds a persistent watch on {@code path} (and, if recursive, everything below). It survives
   * reconnects without missing or repeating events; close the handle to remove it.
   */
  public CompletableFuture<WatchHandle> addWatchAsync(String path, boolean recursive, boolean includeData,
      WatchListener listener) {
    WatchKind kind = recursive ? WatchKind.WATCH_PERSISTENT_RECURSIVE : WatchKind.WATCH_PERSISTENT;
    PersistentWatch handle = new PersistentWatch(new WatchKey(path, kind), includeData, listener,
        h -> core.loop.execute(() -> watches().remove(h, true)));
    core.loop.execute(() -> watches().addPersistent(handle));
    return call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath(path).setKind(kind)
            .setIncludeData(includeData)),
        r -> watches().persistentAnswered(handle, r), r -> handle);
  }

  /** Synchronous {@link #addWatchAsync}. */
  public WatchHandle addWatch(String path, boolean recursive, boolean includeData, WatchListener listener) {
    return await(addWatchAsync(path, recursive, includeData, listener));
  }

  /**
   * Removes this session's watches on {@code path} (ZooKeeper's removeWatches): those of
   * {@code kind}, or of every kind when it is {@code WATCH_KIND_UNSPECIFIED}. Their watchers and
   * listeners are not called any more, here or after a reconnect; the server drops them too.
   * Completes with whether the server held any.
   */
  public CompletableFuture<Boolean> removeWatchesAsync(String path, WatchKind kind) {
    core.loop.execute(() -> watches().removeAll(path, kind));
    return call(Request.newBuilder().setRemoveWatch(RemoveWatchRequest.newBuilder().setPath(path).setKind(kind)),
        r -> { }, r -> r.getRemoveWatch().getRemoved() > 0);
  }

  /** Synchronous {@link #removeWatchesAsync}. */
  public boolean removeWatches(String path, WatchKind kind) {
    return await(removeWatchesAsync(path, kind));
  }

  // ===========================================================================================
  // Requests

  private WatchRegistry watches() {
    return core.session.watches;
  }

  private Deadline deadlineFromNow() {
    return deadline == null ? null : Deadline.after(deadline, core.loop.nanoTime());
  }

  private <T> CompletableFuture<T> call(Request.Builder request, Consumer<Response> onLoopResult,
      Function<Response, T> convert) {
    return call(request, onLoopResult, convert, false);
  }

  private <T> CompletableFuture<T> call(Request.Builder request, Consumer<Response> onLoopResult,
      Function<Response, T> convert, boolean direct) {
    return call(request, onLoopResult, convert, direct, deadlineFromNow());
  }

  /**
   * Sends {@code request}. With {@code direct}, the answer completes the future on the loop
   * thread itself: only for a caller that merely waits for it (the synchronous methods), since
   * code chained to such a future would run on the loop. {@code onLoopResult} sees the final
   * answer on the loop first (to keep a watcher, a credential).
   */
  private <T> CompletableFuture<T> call(Request.Builder request, Consumer<Response> onLoopResult,
      Function<Response, T> convert, boolean direct, Deadline deadline) {
    CompletableFuture<Response> raw = direct ? new Callbacks.Direct<>() : new CompletableFuture<>();
    core.startIfNeeded();
    SynodException authFailure = core.session.authFailure();
    if (authFailure != null) {
      raw.completeExceptionally(authFailure);
    } else if (!core.loop.execute(() -> core.session.requests.submit(request, onLoopResult, raw, deadline))) {
      raw.completeExceptionally(new ClientClosedException());
    }
    return raw.thenApply(r -> {
      if (r.hasError()) {
        throw failure(r);
      }
      return convert.apply(r);
    });
  }

  /** The typed exception for an error answer; for a multi, the op that failed. */
  private static SynodException failure(Response r) {
    SynodException e = SynodException.of(r.getError());
    if (!r.hasMulti()) {
      return e;
    }
    List<OpResult> results = r.getMulti().getResultsList();
    int index = 0;
    for (int i = 0; i < results.size(); i++) {
      if (results.get(i).hasError() && results.get(i).getError().getReason() != ErrorReason.RUNTIME_INCONSISTENCY) {
        index = i;
        e = SynodException.of(results.get(i).getError());
        break;
      }
    }
    return new MultiFailedException(e, index, results);
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      throw SynodException.unwrap(e);
    } catch (java.util.concurrent.CancellationException e) {
      throw new SynodException(ErrorReason.ERROR_REASON_UNSPECIFIED, "cancelled", null, e);
    }
  }

  // ===========================================================================================
  // Diagnostics (package-private; faults are injected through the channel factory, see the tests' Faults)

  /**
   * How often the client retried because of {@code reason}: OVERLOADED answers re-sent after a
   * backoff, OUT_OF_ORDER answers re-sent behind their predecessor, LEADER_UNAVAILABLE /
   * SHUTTING_DOWN / STORAGE_FAILURE answers re-sent elsewhere, and
   * streams refused with SESSION_ZXID_AHEAD or OVERLOADED.
   */
  long testRetries(ErrorReason reason) {
    return core.session.requests.retries(reason);
  }

  // ===========================================================================================

  public static final class Builder {
    private final List<InetSocketAddress> servers = new ArrayList<>();
    private Duration sessionTimeout = Duration.ofSeconds(10);
    private RetryPolicy retryPolicy = RetryPolicy.defaultPolicy();
    private boolean reconnectAfterExpiry;
    private final List<ConnectionStateListener> listeners = new ArrayList<>();
    private Path tlsCaBundle;
    private Path tlsCertChain;
    private Path tlsPrivateKey;
    private final List<Credential> credentials = new ArrayList<>();
    private Duration defaultDeadline;
    private ChannelFactory channelFactory;
    private ClientLoop loop;

    /** The servers to try, "host:port,host:port,..." (required). */
    public Builder connectString(String connectString) {
      servers.clear();
      for (String part : connectString.split(",")) {
        String s = part.trim();
        if (s.isEmpty()) {
          continue;
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("expected host:port, got '" + s + "'");
        }
        servers.add(InetSocketAddress.createUnresolved(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1))));
      }
      return this;
    }

    /** The session timeout to ask for (default 10 s); the servers may cap it. */
    public Builder sessionTimeout(Duration timeout) {
      this.sessionTimeout = timeout;
      return this;
    }

    /** How hard to try to reach a server (default {@link RetryPolicy#defaultPolicy()}). */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = policy;
      return this;
    }

    /** A listener told of every state change from the first on. */
    public Builder connectionStateListener(ConnectionStateListener listener) {
      listeners.add(listener);
      return this;
    }

    /**
     * Digest credentials ({@code user:password}) proved on every open and resume; the session's
     * identity becomes {@code digest:user:base64(sha1(user:password))}. May be given repeatedly.
     */
    public Builder digest(String user, String password) {
      return credential("digest", (user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A credential of any scheme the server accepts ({@code scheme:auth}, as zkCli's addauth). */
    public Builder credential(String scheme, byte[] auth) {
      credentials.add(Credential.newBuilder().setScheme(scheme)
          .setAuth(com.google.protobuf.ByteString.copyFrom(auth)).build());
      return this;
    }

    /** After EXPIRED, open a new session automatically (default false: wait for restartSession()). */
    public Builder reconnectAfterExpiry(boolean on) {
      this.reconnectAfterExpiry = on;
      return this;
    }

    /**
     * Connects over TLS, trusting the certificate authorities in this PEM bundle. Each server's
     * certificate must chain to one of them and name the host as written in the connect string
     * (a DNS or IP subject alternative name). Without it the client speaks plaintext.
     */
    public Builder tlsCaBundle(Path caBundlePem) {
      this.tlsCaBundle = caBundlePem;
      return this;
    }

    /**
     * Presents this client certificate (mutual TLS, for servers started with
     * {@code --tls-client-ca}): a PEM certificate chain and its unencrypted PKCS#8 private key.
     * Needs {@link #tlsCaBundle}. The server reads its subject and SANs as the client's identity.
     */
    public Builder tlsClientCertificate(Path certChainPem, Path privateKeyPem) {
      this.tlsCertChain = certChainPem;
      this.tlsPrivateKey = privateKeyPem;
      return this;
    }

    /**
     * A deadline for every call of the client (default none: a call waits as long as the
     * session lives, through reconnects); {@link SynodClient#withDeadline} overrides it per view.
     */
    public Builder defaultDeadline(Duration deadline) {
      if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
        throw new IllegalArgumentException("defaultDeadline must be positive, got " + deadline);
      }
      this.defaultDeadline = deadline;
      return this;
    }

    /**
     * Makes the channels to the servers (default: dial each with the TLS settings given here, or
     * plaintext). Not together with the TLS settings: a factory of your own sets up its own security.
     */
    public Builder channelFactory(ChannelFactory factory) {
      this.channelFactory = factory;
      return this;
    }

    /** Tests: the clock and protocol thread (default: a thread of its own and System.nanoTime). */
    Builder loop(ClientLoop loop) {
      this.loop = loop;
      return this;
    }

    /**
     * @throws IllegalArgumentException no server in the connect string, a client certificate
     *     without a CA bundle, a TLS file that cannot be read (the message names it), or TLS
     *     settings together with a channel factory
     */
    public SynodClient build() {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("connectString names no server");
      }
      ChannelFactory factory = channelFactory;
      if (factory == null) {
        factory = ChannelFactory.dialing(TlsCredentials.of(tlsCaBundle, tlsCertChain, tlsPrivateKey));
      } else if (tlsCaBundle != null || tlsCertChain != null) {
        throw new IllegalArgumentException("tlsCaBundle/tlsClientCertificate apply to the default channels; "
            + "with channelFactory, set up TLS in the factory");
      }
      ClientLoop l = loop != null ? loop : new ThreadClientLoop("synod-client-loop");
      SynodClient client = new SynodClient(new ClientCore(this, l, factory), defaultDeadline);
      client.core.state.bind(client); // listeners are told of this client, never of a deadline view
      return client;
    }

    List<InetSocketAddress> servers() {
      return List.copyOf(servers);
    }

    long sessionTimeoutMs() {
      return sessionTimeout.toMillis();
    }

    RetryPolicy retryPolicy() {
      return retryPolicy;
    }

    boolean reconnectAfterExpiry() {
      return reconnectAfterExpiry;
    }

    List<ConnectionStateListener> listeners() {
      return List.copyOf(listeners);
    }

    List<Credential> credentials() {
      return List.copyOf(credentials);
    }

  }
}
