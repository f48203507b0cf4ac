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
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

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
  private static final Logger LOG = Logger.getLogger(SynodClient.class.getName());
  private static final Metadata.Key<String> REASON_KEY =
      Metadata.Key.of("synod-error-reason", Metadata.ASCII_STRING_MARSHALLER);

  // --- configuration
  private final List<InetSocketAddress> servers;
  private final long requestedTimeoutMs;
  private final RetryPolicy retry;
  private final boolean reconnectAfterExpiry;
  private final List<ConnectionStateListener> listeners = new CopyOnWriteArrayList<>();
  /** Plaintext, or TLS with the builder's CA bundle and client certificate. */
  private final ChannelCredentials channelCredentials;
  /**
   * Credentials this client proves on every stream: the builder's, then each accepted addAuth.
   * Identities belong to the connection (as in ZooKeeper), so they are presented again with every
   * open and resume; never logged.
   */
  private final List<Credential> credentials = new CopyOnWriteArrayList<>();
  /** Set when the servers refused this client's credentials (AUTH_FAILED): it stops connecting. */
  private volatile SynodException authFailure;
  /** start() was called (by the user, or by the first request, which connects the client). */
  private volatile boolean startRequested;

  // --- threads
  private final ScheduledExecutorService loop;
  private volatile Thread loopThread;
  private final ExecutorService watchThread;
  private final ExecutorService callbacks;
  private final Map<InetSocketAddress, ManagedChannel> channels = new LinkedHashMap<>();

  // --- state: written only on the loop thread
  private volatile ConnectionState state;
  private final Object stateMonitor = new Object();
  private boolean started;
  private volatile long sessionId;
  private long secret;
  private long timeoutMs;
  private volatile long lastZxidSeen;
  private int serverIndex = -1;
  private Stream stream;
  private int consecutiveFailures;
  private volatile long lastHeardNanos = System.nanoTime();
  /** Until when a server in touch with the leader has vouched for the session (loop writes). */
  private volatile long confirmedUntilNanos = System.nanoTime();
  private boolean partitioned; // test hook
  private volatile boolean dropResponses; // test hook
  private boolean holdReconnect; // test hook
  private long nextNonce = 1;
  private final RequestQueue requests = new RequestQueue();
  private ScheduledFuture<?> flushTimer;
  private long flushTimerAtNanos;
  private final Map<WatchKey, List<OneShot>> oneShots = new LinkedHashMap<>();
  private final Map<WatchKey, List<PersistentWatch>> persistents = new LinkedHashMap<>();
  private CompletableFuture<Void> closeAck;
  private final Map<ErrorReason, AtomicLong> retried =
      new ConcurrentHashMap<>();

  private SynodClient(Builder b) {
    this.servers = new ArrayList<>(b.servers);
    Collections.shuffle(this.servers);
    this.requestedTimeoutMs = b.sessionTimeout.toMillis();
    this.timeoutMs = requestedTimeoutMs;
    this.retry = b.retryPolicy;
    this.reconnectAfterExpiry = b.reconnectAfterExpiry;
    this.listeners.addAll(b.listeners);
    this.channelCredentials = b.channelCredentials;
    this.credentials.addAll(b.credentials);
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = daemon("synod-client-loop").newThread(r);
      loopThread = t;
      return t;
    });
    this.watchThread = Executors.newSingleThreadExecutor(daemon("synod-client-events"));
    this.callbacks = Executors.newCachedThreadPool(daemon("synod-client-callback"));
  }

  public static Builder builder() {
    return new Builder();
  }

  // ===========================================================================================
  // Lifecycle

  /** Starts connecting (returns at once). Calls made before the session is open wait for it. */
  public SynodClient start() {
    startRequested = true;
    onLoop(() -> {
      if (!started) {
        started = true;
        connect();
        scheduleTick();
      }
    });
    return this;
  }

  /** Waits until the client is CONNECTED or RECONNECTED; false on timeout. */
  public boolean blockUntilConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (stateMonitor) {
      while (state != ConnectionState.CONNECTED && state != ConnectionState.RECONNECTED) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || state == ConnectionState.CLOSED) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(stateMonitor, left);
      }
      return true;
    }
  }

  /** The current state; null before the first connection. */
  /** Whether the servers refused this client's credentials (it has stopped connecting). */
  public boolean authFailed() {
    return authFailure != null;
  }

  public ConnectionState state() {
    return state;
  }

  /** The current session id (0 when there is none). */
  public long sessionId() {
    return sessionId;
  }

  /** The negotiated session timeout. */
  public Duration sessionTimeout() {
    return Duration.ofMillis(timeoutMs);
  }

  /** The highest zxid this client has seen. */
  public long lastZxidSeen() {
    return lastZxidSeen;
  }

  /**
   * How long ago this client last heard from a server (any answer, event or heartbeat reply).
   * Hearing from a server does not mean the session is alive: one cut off from the leader may
   * still answer. See {@link #confirmedTimeLeft()} for what the servers vouch for.
   */
  public Duration sinceLastHeard() {
    return Duration.ofNanos(System.nanoTime() - lastHeardNanos);
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
    return Duration.ofNanos(Math.max(0, confirmedUntilNanos - System.nanoTime()));
  }

  /** The server the current stream is to (null when disconnected). */
  public InetSocketAddress currentServer() {
    Stream s = stream;
    return s != null && s.opened ? s.server : null;
  }

  public void addConnectionStateListener(ConnectionStateListener listener) {
    listeners.add(listener);
  }

  /** Stops telling {@code listener} of state changes (recipes call this when they close). */
  public void removeConnectionStateListener(ConnectionStateListener listener) {
    listeners.remove(listener);
  }

  /** After EXPIRED: opens a new session (ephemerals of the old one are gone). */
  public void restartSession() {
    onLoop(() -> {
      if (state == ConnectionState.EXPIRED) {
        consecutiveFailures = 0;
        connect();
      }
    });
  }

  /** Closes the session (deleting its ephemerals) and releases every resource. Idempotent. */
  @Override
  public void close() {
    CompletableFuture<Void> ack = new CompletableFuture<>();
    if (!onLoop(() -> {
      if (state == ConnectionState.CLOSED) {
        ack.complete(null);
        return;
      }
      closeAck = ack;
      if (stream != null && stream.opened && sessionId != 0) {
        send(stream, ClientMessage.newBuilder().setClose(CloseSessionRequest.getDefaultInstance()).build());
      } else {
        ack.complete(null);
      }
    })) {
      return;
    }
    try {
      ack.get(Math.max(1000, timeoutMs), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "close: no answer from the server", e);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    onLoop(() -> {
      Stream s = stream;
      stream = null;
      cancel(s);
      setState(ConnectionState.CLOSED);
      failAll(new ClientClosedException());
      oneShots.clear();
      persistents.clear();
      done.complete(null);
    });
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "close", e);
    }
    loop.shutdownNow();
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
    watchThread.shutdown();
    callbacks.shutdown();
  }

  // ===========================================================================================
  // Operations (asynchronous, each with a synchronous twin)

  public CompletableFuture<CreateResult> createAsync(String path, byte[] data, CreateOptions options) {
    return create(path, data, options, false);
  }

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

  public void delete(String path, int version) {
    await(delete(path, version, true));
  }

  private CompletableFuture<Void> delete(String path, int version, boolean direct) {
    return call(Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(path).setVersion(version)),
        null, r -> null, direct);
  }

  public CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version) {
    return setData(path, data, version, false);
  }

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
    return call(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(path).setWatch(watcher != null)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            addOneShot(new WatchKey(path, WatchKind.WATCH_DATA), new OneShot(watcher, true, r.getGetData().getStat()));
          }
        },
        r -> new NodeData(r.getGetData().getData().toByteArray(), r.getGetData().getStat(), r.getZxid()), direct);
  }

  public NodeData getData(String path, Watcher watcher) {
    return await(getData(path, watcher, true));
  }

  public NodeData getData(String path) {
    return getData(path, null);
  }

  /** The node's stat, or null if it does not exist; a watcher fires on create, data change or delete. */
  public CompletableFuture<Stat> existsAsync(String path, Watcher watcher) {
    return exists(path, watcher, false);
  }

  private CompletableFuture<Stat> exists(String path, Watcher watcher, boolean direct) {
    return call(Request.newBuilder().setExists(ExistsRequest.newBuilder().setPath(path).setWatch(watcher != null)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            addOneShot(new WatchKey(path, WatchKind.WATCH_EXISTS),
                new OneShot(watcher, r.getExists().getExists(), r.getExists().getStat()));
          }
        },
        r -> r.getExists().getExists() ? r.getExists().getStat() : null, direct);
  }

  public Stat exists(String path, Watcher watcher) {
    return await(exists(path, watcher, true));
  }

  public Stat exists(String path) {
    return exists(path, null);
  }

  /** One page of children ({@code limit} 0 = the server's maximum), after {@code cursor} ("" = first). */
  public CompletableFuture<ChildrenPage> getChildrenPageAsync(String path, int limit, String cursor, Watcher watcher) {
    return call(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder().setPath(path)
            .setWatch(watcher != null).setLimit(limit).setCursor(cursor == null ? "" : cursor)),
        watcher == null ? null : r -> {
          if (!r.hasError()) {
            addOneShot(new WatchKey(path, WatchKind.WATCH_CHILDREN), new OneShot(watcher, true, r.getGetChildren().getStat()));
          }
        },
        r -> new ChildrenPage(List.copyOf(r.getGetChildren().getChildrenList()), r.getGetChildren().getStat(),
            r.getGetChildren().getNextCursor(), r.getZxid()));
  }

  public ChildrenPage getChildrenPage(String path, int limit, String cursor) {
    return await(getChildrenPageAsync(path, limit, cursor, null));
  }

  /**
   * Every child name, fetching all pages; the watcher (if any) is left with the first page. The
   * stat is the one of the last page, the zxid the one of the first page.
   */
  public CompletableFuture<ChildrenPage> getChildrenAsync(String path, Watcher watcher) {
    return getChildrenPageAsync(path, 0, "", watcher)
        .thenCompose(first -> morePages(path, first, first.zxid(), new ArrayList<>()));
  }

  private CompletableFuture<ChildrenPage> morePages(String path, ChildrenPage page, long firstZxid, List<String> acc) {
    acc.addAll(page.children());
    if (page.nextCursor().isEmpty()) {
      return CompletableFuture.completedFuture(new ChildrenPage(List.copyOf(acc), page.stat(), "", firstZxid));
    }
    return getChildrenPageAsync(path, 0, page.nextCursor(), null)
        .thenCompose(next -> morePages(path, next, firstZxid, acc));
  }

  public List<String> getChildren(String path, Watcher watcher) {
    return await(getChildrenAsync(path, watcher)).children();
  }

  public List<String> getChildren(String path) {
    return getChildren(path, null);
  }

  /** Replaces the ACL if the node's aversion is {@code aversion} (-1: any). */
  public CompletableFuture<Stat> setAclAsync(String path, List<Acl> acl, int aversion) {
    return call(Request.newBuilder().setSetAcl(SetAclRequest.newBuilder().setPath(path).addAllAcl(acl).setAversion(aversion)),
        null, r -> r.getSetAcl().getStat());
  }

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
          if (!r.hasError() && !credentials.contains(credential)) {
            credentials.add(credential);
          }
        }, r -> List.copyOf(r.getAddAuth().getIdentitiesList()));
  }

  public List<Identity> addAuth(String scheme, byte[] auth) {
    return await(addAuthAsync(scheme, auth));
  }

  /** Sets (or, with {@code Quota.getDefaultInstance()}, removes) a subtree's quota; needs ADMIN. */
  public CompletableFuture<QuotaUsage> setQuotaAsync(String path, Quota quota) {
    return call(Request.newBuilder().setSetQuota(SetQuotaRequest.newBuilder().setPath(path).setQuota(quota)),
        null, r -> r.getSetQuota().getUsage());
  }

  public QuotaUsage setQuota(String path, Quota quota) {
    return await(setQuotaAsync(path, quota));
  }

  /** A node's quota and its subtree's usage (has_quota false when it has none). */
  public CompletableFuture<GetQuotaResponse> getQuotaAsync(String path) {
    return call(Request.newBuilder().setGetQuota(GetQuotaRequest.newBuilder().setPath(path)), null,
        r -> r.getGetQuota());
  }

  public GetQuotaResponse getQuota(String path) {
    return await(getQuotaAsync(path));
  }

  public CompletableFuture<List<Acl>> getAclAsync(String path) {
    return call(Request.newBuilder().setGetAcl(GetAclRequest.newBuilder().setPath(path)), null,
        r -> List.copyOf(r.getGetAcl().getAclList()));
  }

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

  public List<OpResult> multi(List<Op> ops) {
    return await(multiAsync(ops));
  }

  /** Returns once every write accepted before it is applied on this server; answers that zxid. */
  public CompletableFuture<Long> syncAsync() {
    return call(Request.newBuilder().setSync(SyncRequest.newBuilder().setPath("/")), null, r -> r.getSync().getZxid());
  }

  public long sync() {
    return await(syncAsync());
  }

  public CompletableFuture<StatusResponse> statusAsync() {
    return call(Request.newBuilder().setStatus(StatusRequest.getDefaultInstance()), null, Response::getStatus);
  }

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
    PersistentWatch handle = new PersistentWatch(new WatchKey(path, kind), includeData, listener);
    onLoop(() -> persistents.computeIfAbsent(handle.key, k -> new ArrayList<>()).add(handle));
    return call(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath(path).setKind(kind)
            .setIncludeData(includeData)),
        r -> {
          if (r.hasError()) {
            removeHandle(handle, false);
          } else {
            handle.registered = true;
            handle.lastZxid = Math.max(handle.lastZxid, r.getAddWatch().getZxid());
          }
        }, r -> handle);
  }

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
    boolean every = kind == WatchKind.WATCH_KIND_UNSPECIFIED;
    onLoop(() -> {
      oneShots.keySet().removeIf(k -> k.path().equals(path) && (every || k.kind() == kind));
      persistents.keySet().removeIf(k -> k.path().equals(path) && (every || k.kind() == kind));
    });
    return call(Request.newBuilder().setRemoveWatch(RemoveWatchRequest.newBuilder().setPath(path).setKind(kind)),
        r -> { }, r -> r.getRemoveWatch().getRemoved() > 0);
  }

  public boolean removeWatches(String path, WatchKind kind) {
    return await(removeWatchesAsync(path, kind));
  }

  // ===========================================================================================
  // Requests

  private <T> CompletableFuture<T> call(Request.Builder request, Consumer<Response> onLoopResult,
      Function<Response, T> convert) {
    return call(request, onLoopResult, convert, false);
  }

  /**
   * Sends {@code request}. With {@code direct}, the answer completes the future on the loop
   * thread itself: only for a caller that merely waits for it (the synchronous methods), since
   * code chained to such a future would run on the loop.
   */
  private <T> CompletableFuture<T> call(Request.Builder request, Consumer<Response> onLoopResult,
      Function<Response, T> convert, boolean direct) {
    CompletableFuture<Response> raw = direct ? new DirectFuture<>() : new CompletableFuture<>();
    if (!startRequested) {
      // A request before start() would wait for a connection that is never made: connect now.
      start();
    }
    if (authFailure != null) {
      raw.completeExceptionally(authFailure);
    } else if (!onLoop(() -> submit(request, onLoopResult, raw))) {
      raw.completeExceptionally(new ClientClosedException());
    }
    return raw.thenApply(r -> {
      if (r.hasError()) {
        SynodException e = SynodException.of(r.getError());
        if (r.hasMulti()) {
          List<OpResult> results = r.getMulti().getResultsList();
          int index = 0;
          for (int i = 0; i < results.size(); i++) {
            if (results.get(i).hasError()
                && results.get(i).getError().getReason() != ErrorReason.RUNTIME_INCONSISTENCY) {
              index = i;
              e = SynodException.of(results.get(i).getError());
              break;
            }
          }
          throw new MultiFailedException(e, index, results);
        }
        throw e;
      }
      return convert.apply(r);
    });
  }

  private void submit(Request.Builder request, Consumer<Response> onLoopResult, CompletableFuture<Response> out) {
    SynodException refusal = refusal();
    if (refusal != null) {
      completeLater(out, null, refusal);
      return;
    }
    requests.add(request, onLoopResult, out);
    flush();
  }

  /** Why a new call cannot be accepted now, or null. */
  private SynodException refusal() {
    if (state == ConnectionState.CLOSED) {
      return new ClientClosedException();
    }
    if (state == ConnectionState.EXPIRED) {
      return new SessionExpiredException("the session expired; call restartSession() for a new one");
    }
    if (sessionId == 0 && consecutiveFailures >= retry.maxAttempts() && (stream == null || !stream.opened)) {
      return new ConnectionLossException("no server reachable after " + consecutiveFailures + " attempts", null);
    }
    return null;
  }

  /**
   * Sends what the request queue lets go now, in order (see {@link RequestQueue}: a refused write
   * holds back everything made after it), and comes back when a backoff ends.
   */
  private void flush() {
    Stream s = stream;
    if (partitioned || s == null || !s.opened) {
      return;
    }
    RequestQueue.Flush f = requests.flush(System.nanoTime(), retry.maxAttempts());
    for (RequestQueue.Entry e : f.givenUp()) {
      completeLater(e.future, null, new ConnectionLossException("request sent " + retry.maxAttempts()
          + " times without an answer; giving up (a write may or may not have applied)", null));
    }
    for (Request r : f.toSend()) {
      send(s, ClientMessage.newBuilder().setRequest(r).build());
    }
    long wake = f.wakeAtNanos();
    if (wake != RequestQueue.Flush.NO_WAKE && (flushTimer == null || wake - flushTimerAtNanos < 0)) {
      if (flushTimer != null) {
        flushTimer.cancel(false);
      }
      flushTimerAtNanos = wake;
      flushTimer = loop.schedule(() -> {
        flushTimer = null;
        flush();
      }, Math.max(0, wake - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  private void completeLater(CompletableFuture<Response> f, Response r, Throwable t) {
    if (f instanceof DirectFuture) {
      // Only a waiting caller depends on it: wake it from here, without a pool hand-over.
      if (t != null) {
        f.completeExceptionally(t);
      } else {
        f.complete(r);
      }
      return;
    }
    try {
      callbacks.execute(() -> {
        if (t != null) {
          f.completeExceptionally(t);
        } else {
          f.complete(r);
        }
      });
    } catch (RejectedExecutionException e) {
      if (t != null) {
        f.completeExceptionally(t);
      } else {
        f.complete(r);
      }
    }
  }

  private void failAll(SynodException e) {
    for (RequestQueue.Entry p : requests.drain()) {
      completeLater(p.future, null, e);
    }
  }

  private static boolean retryable(ErrorReason reason) {
    return reason == ErrorReason.LEADER_UNAVAILABLE || reason == ErrorReason.SHUTTING_DOWN
        || reason == ErrorReason.STORAGE_FAILURE;
  }

  private void countRetry(ErrorReason reason) {
    retried.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
  }

  /**
   * LEADER_UNAVAILABLE and the like (the write may or may not have applied) move the client to
   * another server, where every unanswered request is sent again with its number. OVERLOADED
   * (certainly not applied) and OUT_OF_ORDER (a write whose predecessor has not applied; not
   * applied) are sent again with the same number, in order, by the request queue: OVERLOADED after
   * the retry policy's backoff, each at most {@code maxAttempts} times; then the caller gets it.
   */
  private void onResponse(Response r) {
    if (dropResponses) {
      return;
    }
    RequestQueue.Entry p = requests.answered(r.getRequestNo());
    if (p == null) {
      return; // an answer to a request already answered (re-sent) or given up, or a stale one
    }
    if (r.getZxid() > lastZxidSeen) {
      lastZxidSeen = r.getZxid();
    }
    if (r.hasError() && retryable(r.getError().getReason())) {
      // Not applied here (or unknown): move to another server and re-send with the same number.
      countRetry(r.getError().getReason());
      failStream(stream, r.getError().getReason() + ": " + r.getError().getMessage());
      return;
    }
    long backoffNanos = TimeUnit.MILLISECONDS.toNanos(retry.delayMs(p.overloads + 1));
    if (requests.settle(p, r, System.nanoTime(), backoffNanos, retry.maxAttempts()) == RequestQueue.Verdict.AGAIN) {
      countRetry(r.getError().getReason());
      flush();
      return;
    }
    if (p.onLoop != null) {
      try {
        p.onLoop.accept(r);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "internal response hook failed", e);
      }
    }
    completeLater(p.future, r, null);
    flush(); // a refused write may have been waiting for this answer
  }

  // ===========================================================================================
  // Connection management (loop thread)

  private void connect() {
    if (state == ConnectionState.CLOSED || partitioned || holdReconnect) {
      return;
    }
    serverIndex = (serverIndex + 1) % servers.size();
    InetSocketAddress address = servers.get(serverIndex);
    ManagedChannel channel = channels.computeIfAbsent(address, a ->
        Grpc.newChannelBuilderForAddress(a.getHostString(), a.getPort(), channelCredentials)
            .executor(this::onLoopQuietly).build());
    Stream s = new Stream(address);
    s.startedNanos = System.nanoTime();
    stream = s;
    try {
      s.out = SynodGrpc.newStub(channel).session(s);
    } catch (RuntimeException e) {
      stream = null;
      onStreamFailed(s, e);
      return;
    }
    boolean resume = sessionId != 0 && state != ConnectionState.EXPIRED;
    if (resume) {
      send(s, ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
          .setSessionId(sessionId).setSecret(secret).setLastZxidSeen(lastZxidSeen)
          .addAllCredentials(credentials)).build());
    } else {
      send(s, ClientMessage.newBuilder().setOpen(OpenSessionRequest.newBuilder()
          .setTimeoutMs(requestedTimeoutMs).addAllCredentials(credentials)).build());
    }
    // A resume is answered locally; an open goes through consensus (may wait for an election).
    long patience = resume ? Math.max(200, timeoutMs / 3) : Math.max(5000, 2 * requestedTimeoutMs);
    s.connectTimer = loop.schedule(() -> {
      if (stream == s && !s.opened) {
        failStream(s, "no answer to " + (resume ? "resume" : "open") + " within " + patience + " ms");
      }
    }, patience, TimeUnit.MILLISECONDS);
  }

  private void onServerMessage(Stream s, ServerMessage m) {
    if (s != stream || s.dead) {
      return;
    }
    lastHeardNanos = System.nanoTime();
    switch (m.getKindCase()) {
      case OPENED -> onOpened(s, m.getOpened());
      case RESPONSE -> onResponse(m.getResponse());
      case EVENT -> onEvent(m.getEvent());
      case ENDED -> {
        if (m.getEnded().getReason() == SessionEnded.Reason.EXPIRED) {
          expire("the server expired the session");
        } else if (closeAck != null) {
          closeAck.complete(null);
        } else {
          expire("the session was closed");
        }
      }
      case HEARTBEAT -> onHeartbeatReply(s, m.getHeartbeat());
      case KIND_NOT_SET -> { }
    }
  }

  /**
   * A server that is not in touch with the leader cannot vouch for the session: move on at once.
   * A confirmed reply extends the confirmed deadline (from the heartbeat's send time: the server's
   * count started later) and, if it leaves enough, ends a suspension.
   */
  private void onHeartbeatReply(Stream s, HeartbeatReply reply) {
    long sentNanos = s.heartbeatSentNanos(reply.getNonce());
    if (!reply.getConfirmed()) {
      failStream(s, s.server + " cannot confirm the session: it has lost touch with the leader");
      return;
    }
    if (sentNanos != Stream.NOT_SENT && reply.getTimeLeftMs() > 0) {
      long until = sentNanos + TimeUnit.MILLISECONDS.toNanos(reply.getTimeLeftMs());
      if (until - confirmedUntilNanos > 0) {
        confirmedUntilNanos = until;
      }
    }
    if (state == ConnectionState.SUSPENDED && confirmedUntilNanos - System.nanoTime() >= suspendMarginNanos()) {
      setState(ConnectionState.RECONNECTED);
    }
  }

  private void onOpened(Stream s, SessionOpened opened) {
    s.opened = true;
    if (s.connectTimer != null) {
      s.connectTimer.cancel(false);
    }
    consecutiveFailures = 0;
    timeoutMs = opened.getTimeoutMs();
    s.openedNanos = System.nanoTime();
    s.lastHeartbeatNanos = s.openedNanos;
    boolean fresh = !opened.getResumed();
    if (fresh) {
      sessionId = opened.getSessionId();
      secret = opened.getSecret();
      oneShots.clear();
      // Created through the log after we asked: the leader started its full timeout later.
      confirmedUntilNanos = s.startedNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    }
    // Unanswered requests first, in order, with their original numbers (the server deduplicates writes).
    requests.newStream();
    flush();
    // The state first: after an expiry it is still EXPIRED, which would refuse the re-registrations.
    if (fresh) {
      setState(ConnectionState.CONNECTED);
    } else {
      // A resume is answered by this server alone: ask it at once whether it can confirm the
      // session. Until it does, the client stays SUSPENDED unless enough is still confirmed.
      sendHeartbeat(s);
      if (confirmedUntilNanos - System.nanoTime() >= suspendMarginNanos()) {
        setState(ConnectionState.RECONNECTED);
      } else if (state != ConnectionState.SUSPENDED) {
        setState(ConnectionState.SUSPENDED);
      }
    }
    reRegisterWatches(fresh);
  }

  private void onStreamFailed(Stream s, Throwable t) {
    if (s != stream || s.dead) {
      return;
    }
    s.dead = true;
    stream = null;
    if (s.connectTimer != null) {
      s.connectTimer.cancel(false);
    }
    if (state == ConnectionState.CLOSED) {
      return;
    }
    if (closeAck != null) {
      closeAck.complete(null);
      return;
    }
    ErrorReason reason = reasonOf(t);
    if (reason == ErrorReason.AUTH_FAILED) {
      // Wrong credentials stay wrong on every server: stop, and fail what waits (ZooKeeper's
      // AUTH_FAILED state). The message is the server's, which never names the credential.
      authFailure = new AuthFailedException("the servers refused this client's credentials: "
          + describe(t), "");
      LOG.warning(() -> "authentication failed on " + s.server + "; not reconnecting");
      failAll(authFailure);
      return;
    }
    if (reason == ErrorReason.SESSION_EXPIRED || reason == ErrorReason.SESSION_SECRET_MISMATCH) {
      expire("the server does not know the session any more (" + reason + ")");
      return;
    }
    if (reason == ErrorReason.SESSION_ZXID_AHEAD || reason == ErrorReason.OVERLOADED) {
      countRetry(reason);
      LOG.fine(() -> s.server + " refused the stream (" + reason + "); trying another server");
    }
    boolean wasOpen = s.opened;
    if (state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED) {
      setState(ConnectionState.SUSPENDED);
    }
    if (wasOpen) {
      consecutiveFailures = 0;
    }
    consecutiveFailures++;
    if (sessionId == 0 && consecutiveFailures >= retry.maxAttempts() && !requests.isEmpty()) {
      failAll(new ConnectionLossException("no server reachable after " + consecutiveFailures
          + " attempts; last failure: " + describe(t), t));
    }
    if (sessionExpiredLocally()) {
      return;
    }
    long delay = 0;
    if (consecutiveFailures % servers.size() == 0 || reason == ErrorReason.OVERLOADED) {
      delay = retry.delayMs(consecutiveFailures / servers.size());
      if (sessionId != 0) {
        delay = Math.min(delay, Math.max(1, timeoutMs / 5));
      }
    }
    loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  /** With a session but no server heard from for longer than its timeout: the session is gone. */
  private boolean sessionExpiredLocally() {
    if (sessionId != 0 && state == ConnectionState.SUSPENDED
        && System.nanoTime() - lastHeardNanos > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
      expire("no server reachable for longer than the session timeout (" + timeoutMs + " ms)");
      return true;
    }
    return false;
  }

  private void failStream(Stream s, String why) {
    if (s == null) {
      return;
    }
    cancel(s);
    onStreamFailed(s, Status.UNAVAILABLE.withDescription(why).asRuntimeException());
  }

  private void cancel(Stream s) {
    if (s != null && s.out != null) {
      try {
        s.out.onError(Status.CANCELLED.withDescription("client moves on").asRuntimeException());
      } catch (RuntimeException e) {
        // already gone
      }
    }
  }

  private void expire(String why) {
    if (state == ConnectionState.EXPIRED || state == ConnectionState.CLOSED) {
      return;
    }
    LOG.info(() -> "session " + Long.toUnsignedString(sessionId) + " expired: " + why);
    Stream s = stream;
    stream = null;
    if (s != null) {
      s.dead = true;
      cancel(s);
    }
    sessionId = 0;
    confirmedUntilNanos = System.nanoTime();
    oneShots.clear();
    for (List<PersistentWatch> list : persistents.values()) {
      list.forEach(h -> h.registered = false);
    }
    // The state first: a caller woken by the failure must find the client EXPIRED already.
    setState(ConnectionState.EXPIRED);
    failAll(new SessionExpiredException("session expired: " + why));
    requests.newSession();
    if (reconnectAfterExpiry) {
      consecutiveFailures = 0;
      connect();
    }
  }

  /** Ticks at a twelfth of the timeout (10 to 100 ms): heartbeats, stream checks, local expiry. */
  private void scheduleTick() {
    loop.schedule(() -> {
      if (state == ConnectionState.CLOSED) {
        return;
      }
      Stream s = stream;
      if (s != null && s.opened && !partitioned) {
        checkStream(s);
      } else if (s == null) {
        sessionExpiredLocally();
      }
      scheduleTick();
    }, tickMs(), TimeUnit.MILLISECONDS);
  }

  private long tickMs() {
    return Math.max(10, Math.min(100, timeoutMs / 12));
  }

  /** Below this much confirmed time left the client is SUSPENDED (and moves on). */
  private long suspendMarginNanos() {
    return TimeUnit.MILLISECONDS.toNanos(timeoutMs) / 6;
  }

  /**
   * Moves on from a server that has gone silent (two thirds of the timeout), or that leaves the
   * session unconfirmed too long: under a sixth of the timeout confirmed, or a third of it after a
   * resume. Otherwise heartbeats: every third of the timeout, and every tick while less than a
   * third stays confirmed (a follower vouches for a session only once the leader has heard of it,
   * a moment after the heartbeat that told it).
   */
  private void checkStream(Stream s) {
    long now = System.nanoTime();
    long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    long confirmedNanos = confirmedUntilNanos - now;
    boolean connected = state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED;
    if (now - lastHeardNanos > timeoutNanos * 2 / 3) {
      failStream(s, "no message from " + s.server + " for " + (timeoutMs * 2 / 3) + " ms");
    } else if (connected && confirmedNanos < suspendMarginNanos()) {
      failStream(s, s.server + " has left the session unconfirmed (" + Math.max(0, confirmedNanos / 1_000_000)
          + " ms of " + timeoutMs + " left)");
    } else if (state == ConnectionState.SUSPENDED && now - s.openedNanos > timeoutNanos / 3) {
      failStream(s, s.server + " did not confirm the resumed session within " + timeoutMs / 3 + " ms");
    } else if (now - s.lastHeartbeatNanos >= timeoutNanos / 3
        || (confirmedNanos < timeoutNanos / 3 && now - s.lastHeartbeatNanos >= TimeUnit.MILLISECONDS.toNanos(tickMs()))) {
      sendHeartbeat(s);
    }
  }

  private void sendHeartbeat(Stream s) {
    long nonce = nextNonce++;
    s.heartbeatSent(nonce, System.nanoTime());
    send(s, ClientMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setNonce(nonce)).build());
  }

  private void send(Stream s, ClientMessage m) {
    if (s == null || s.dead || partitioned) {
      return;
    }
    try {
      s.out.onNext(m);
    } catch (RuntimeException e) {
      failStream(s, "send failed: " + e);
    }
  }

  private void setState(ConnectionState next) {
    synchronized (stateMonitor) {
      state = next;
      stateMonitor.notifyAll();
    }
    for (ConnectionStateListener l : listeners) {
      deliver(() -> l.stateChanged(this, next));
    }
  }

  private void deliver(Runnable r) {
    try {
      watchThread.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "watcher or listener threw", e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private static ErrorReason reasonOf(Throwable t) {
    Metadata trailers = t == null ? null : Status.trailersFromThrowable(t);
    String r = trailers == null ? null : trailers.get(REASON_KEY);
    if (r == null) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      return ErrorReason.valueOf(r);
    } catch (IllegalArgumentException e) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
  }

  private static String describe(Throwable t) {
    return t == null ? "stream ended" : Status.fromThrowable(t).toString();
  }

  // ===========================================================================================
  // Watches (loop thread)

  private void addOneShot(WatchKey key, OneShot w) {
    oneShots.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
  }

  private void onEvent(WatchEvent e) {
    if (e.getType() != EventType.RESYNC_NEEDED && e.getZxid() > lastZxidSeen) {
      lastZxidSeen = e.getZxid();
    }
    WatchedEvent event = new WatchedEvent(e.getType(), e.getPath(), e.getZxid(),
        e.getHasData() ? e.getData().toByteArray() : null, e.hasStat() ? e.getStat() : null);
    Set<Object> delivered = Collections.newSetFromMap(new IdentityHashMap<>());
    for (WatchTarget t : e.getFiredList()) {
      WatchKey key = new WatchKey(t.getPath(), t.getKind());
      if (t.getKind() == WatchKind.WATCH_PERSISTENT || t.getKind() == WatchKind.WATCH_PERSISTENT_RECURSIVE) {
        for (PersistentWatch h : persistents.getOrDefault(key, List.of())) {
          boolean fresh = e.getType() == EventType.RESYNC_NEEDED || e.getZxid() > h.lastZxid;
          if (fresh && delivered.add(h.listener)) {
            if (e.getType() != EventType.RESYNC_NEEDED) {
              h.lastZxid = e.getZxid();
            }
            deliver(() -> h.listener.onEvent(event));
          } else if (fresh && e.getType() != EventType.RESYNC_NEEDED) {
            h.lastZxid = e.getZxid();
          }
        }
      } else {
        List<OneShot> list = oneShots.remove(key);
        if (list != null) {
          for (OneShot w : list) {
            if (delivered.add(w.watcher)) {
              deliver(() -> w.watcher.process(event));
            }
          }
        }
      }
    }
  }

  /**
   * After a resume the server holds no watches of the session. One-shot watches are set again by
   * reading with watch=true; if the node changed meanwhile the event is delivered now. Persistent
   * ones are re-added from the last zxid they delivered, so the server replays what was missed.
   */
  private void reRegisterWatches(boolean freshSession) {
    for (WatchKey key : new ArrayList<>(oneShots.keySet())) {
      Request.Builder read = Request.newBuilder();
      switch (key.kind()) {
        case WATCH_DATA -> read.setGetData(GetDataRequest.newBuilder().setPath(key.path()).setWatch(true));
        case WATCH_EXISTS -> read.setExists(ExistsRequest.newBuilder().setPath(key.path()).setWatch(true));
        default -> read.setGetChildren(GetChildrenRequest.newBuilder().setPath(key.path()).setWatch(true).setLimit(1));
      }
      submit(read, r -> checkOneShot(key, r), new CompletableFuture<>());
    }
    for (Map.Entry<WatchKey, List<PersistentWatch>> entry : persistents.entrySet()) {
      List<PersistentWatch> handles = entry.getValue();
      if (handles.isEmpty() || handles.stream().noneMatch(h -> h.registered || freshSession)) {
        continue;
      }
      long from = handles.stream().mapToLong(h -> h.lastZxid).min().orElse(0);
      boolean data = handles.stream().anyMatch(h -> h.includeData);
      submit(Request.newBuilder().setAddWatch(AddWatchRequest.newBuilder().setPath(entry.getKey().path())
          .setKind(entry.getKey().kind()).setStartZxid(from).setIncludeData(data)), r -> {
            if (!r.hasError()) {
              handles.forEach(h -> h.registered = true);
            }
          }, new CompletableFuture<>());
    }
  }

  private void checkOneShot(WatchKey key, Response r) {
    List<OneShot> list = oneShots.get(key);
    if (list == null || list.isEmpty()) {
      return;
    }
    boolean exists;
    Stat stat;
    if (r.hasError()) {
      if (r.getError().getReason() != ErrorReason.NO_NODE) {
        return; // keep them; a later reconnect tries again
      }
      exists = false;
      stat = null;
    } else if (r.hasExists()) {
      exists = r.getExists().getExists();
      stat = exists ? r.getExists().getStat() : null;
    } else if (r.hasGetData()) {
      exists = true;
      stat = r.getGetData().getStat();
    } else {
      exists = true;
      stat = r.getGetChildren().getStat();
    }
    Map<EventType, List<OneShot>> fire = new LinkedHashMap<>();
    List<OneShot> keep = new ArrayList<>();
    for (OneShot w : list) {
      EventType type = w.changeTo(key.kind(), exists, stat);
      if (type == null) {
        keep.add(w);
      } else {
        fire.computeIfAbsent(type, k -> new ArrayList<>()).add(w);
      }
    }
    if (keep.isEmpty()) {
      oneShots.remove(key);
    } else {
      oneShots.put(key, keep);
    }
    fire.forEach((type, ws) -> {
      WatchedEvent event = new WatchedEvent(type, key.path(), r.getZxid(), null, stat);
      ws.forEach(w -> deliver(() -> w.watcher.process(event)));
    });
  }

  private void removeHandle(PersistentWatch h, boolean tellServer) {
    List<PersistentWatch> list = persistents.get(h.key);
    if (list == null || !list.remove(h)) {
      return;
    }
    if (list.isEmpty()) {
      persistents.remove(h.key);
      if (tellServer && state != ConnectionState.EXPIRED && state != ConnectionState.CLOSED) {
        submit(Request.newBuilder().setRemoveWatch(RemoveWatchRequest.newBuilder()
            .setPath(h.key.path()).setKind(h.key.kind())), null, new CompletableFuture<>());
      }
    }
  }

  // ===========================================================================================
  // Test hooks (package-private)

  /** While set the client sends nothing at all (no heartbeats, requests, or reconnects). */
  void testPartition(boolean on) {
    onLoop(() -> {
      partitioned = on;
      if (!on) {
        lastHeardNanos = System.nanoTime();
        if (stream == null) {
          connect();
        } else if (stream.opened) {
          flush();
        }
      }
    });
  }

  /** While set, a lost stream is not replaced (the current one keeps working). */
  void testHoldReconnect(boolean on) {
    onLoop(() -> {
      holdReconnect = on;
      if (!on && stream == null) {
        connect();
      }
    });
  }

  /** While set, responses are ignored as if lost in transit (requests stay pending). */
  void testDropResponses(boolean on) {
    dropResponses = on;
  }

  /** Drops the current stream as if the connection broke (the client moves to the next server). */
  void testDisconnect() {
    onLoop(() -> failStream(stream, "test disconnect"));
  }

  /**
   * How often the client retried because of {@code reason}: OVERLOADED answers re-sent after a
   * backoff, OUT_OF_ORDER answers re-sent behind their predecessor, LEADER_UNAVAILABLE /
   * SHUTTING_DOWN / STORAGE_FAILURE answers re-sent elsewhere, and
   * streams refused with SESSION_ZXID_AHEAD or OVERLOADED.
   */
  long testRetries(ErrorReason reason) {
    AtomicLong n = retried.get(reason);
    return n == null ? 0 : n.get();
  }

  // ===========================================================================================
  // Helpers and types

  /** The channels' executor: their callbacks run on the loop (dropped once it is shut down). */
  private void onLoopQuietly(Runnable r) {
    onLoop(r);
  }

  /** Runs {@code r} at once when already on the loop (a stream callback), else hands it over. */
  private void onLoopNowOrLater(Runnable r) {
    if (Thread.currentThread() == loopThread) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.log(Level.SEVERE, "client loop task failed", e);
      }
    } else {
      onLoop(r);
    }
  }

  private boolean onLoop(Runnable r) {
    try {
      loop.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          LOG.log(Level.SEVERE, "client loop task failed", e);
        }
      });
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
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

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private record WatchKey(String path, WatchKind kind) {}

  /**
   * The answer of a synchronous call, completed on the loop itself: only its caller waits for it
   * and nothing that could block is chained to it.
   */
  private static final class DirectFuture<T> extends CompletableFuture<T> {}

  /** A one-shot watcher and the node's state when it was set (to notice changes missed while away). */
  private static final class OneShot {
    final Watcher watcher;
    final boolean existed;
    final long czxid;
    final long mzxid;
    final int cversion;

    OneShot(Watcher watcher, boolean existed, Stat stat) {
      this.watcher = watcher;
      this.existed = existed;
      this.czxid = existed ? stat.getCzxid() : 0;
      this.mzxid = existed ? stat.getMzxid() : 0;
      this.cversion = existed ? stat.getCversion() : 0;
    }

    /** The event this watch would have fired for the change from then to now, or null. */
    EventType changeTo(WatchKind kind, boolean exists, Stat now) {
      if (!existed) {
        return exists ? EventType.NODE_CREATED : null;
      }
      if (!exists) {
        return EventType.NODE_DELETED;
      }
      if (now.getCzxid() != czxid) {
        // Deleted and re-created while away: the delete is what the watch would have seen.
        return EventType.NODE_DELETED;
      }
      if (kind == WatchKind.WATCH_CHILDREN) {
        return now.getCversion() != cversion ? EventType.NODE_CHILDREN_CHANGED : null;
      }
      return now.getMzxid() != mzxid ? EventType.NODE_DATA_CHANGED : null;
    }
  }

  private final class PersistentWatch implements WatchHandle {
    final WatchKey key;
    final boolean includeData;
    final WatchListener listener;
    volatile long lastZxid;
    volatile boolean registered;

    PersistentWatch(WatchKey key, boolean includeData, WatchListener listener) {
      this.key = key;
      this.includeData = includeData;
      this.listener = listener;
    }

    @Override
    public String path() {
      return key.path();
    }

    @Override
    public boolean recursive() {
      return key.kind() == WatchKind.WATCH_PERSISTENT_RECURSIVE;
    }

    @Override
    public long lastZxid() {
      return lastZxid;
    }

    @Override
    public void close() {
      onLoop(() -> removeHandle(this, true));
    }
  }

  /** One Session stream; its callbacks run on the loop (the channel's executor), where stale streams are ignored. */
  private final class Stream implements StreamObserver<ServerMessage> {
    static final long NOT_SENT = Long.MIN_VALUE;
    /** Heartbeats remembered awaiting their reply (replies come in order; older ones are lost). */
    static final int HEARTBEATS_UNANSWERED_MAX = 64;

    final InetSocketAddress server;
    StreamObserver<ClientMessage> out;
    boolean opened;
    boolean dead;
    ScheduledFuture<?> connectTimer;
    long startedNanos;
    long openedNanos;
    long lastHeartbeatNanos;
    /** (nonce, send time) of heartbeats not yet answered, oldest first. */
    private final java.util.ArrayDeque<long[]> heartbeats = new java.util.ArrayDeque<>();

    Stream(InetSocketAddress server) {
      this.server = server;
    }

    void heartbeatSent(long nonce, long nowNanos) {
      lastHeartbeatNanos = nowNanos;
      heartbeats.add(new long[] {nonce, nowNanos});
      while (heartbeats.size() > HEARTBEATS_UNANSWERED_MAX) {
        heartbeats.poll();
      }
    }

    /** When the heartbeat {@code nonce} was sent (forgetting it and older ones), or NOT_SENT. */
    long heartbeatSentNanos(long nonce) {
      while (!heartbeats.isEmpty() && heartbeats.peek()[0] <= nonce) {
        long[] h = heartbeats.poll();
        if (h[0] == nonce) {
          return h[1];
        }
      }
      return NOT_SENT;
    }

    @Override
    public void onNext(ServerMessage m) {
      onLoopNowOrLater(() -> onServerMessage(this, m));
    }

    @Override
    public void onError(Throwable t) {
      onLoopNowOrLater(() -> onStreamFailed(this, t));
    }

    @Override
    public void onCompleted() {
      onLoopNowOrLater(() -> onStreamFailed(this, null));
    }
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
    private ChannelCredentials channelCredentials;
    private final List<Credential> credentials = new ArrayList<>();

    /** "host:port,host:port,...". */
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

    public Builder sessionTimeout(Duration timeout) {
      this.sessionTimeout = timeout;
      return this;
    }

    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = policy;
      return this;
    }

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
     * @throws IllegalArgumentException no server in the connect string, a client certificate
     *     without a CA bundle, or a TLS file that cannot be read (the message names it)
     */
    public SynodClient build() {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("connectString names no server");
      }
      channelCredentials = TlsCredentials.of(tlsCaBundle, tlsCertChain, tlsPrivateKey);
      return new SynodClient(this);
    }

  }
}
