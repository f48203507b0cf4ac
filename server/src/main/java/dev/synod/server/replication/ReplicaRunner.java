package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.consensus.Ballot;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.observe.ServerMetrics;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.storage.CorruptSnapshotException;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link ReplicaLoop} in production: one thread steps it with the events posted from
 * gRPC threads and with ticks from the monotonic clock; its background jobs (writing and
 * fetching snapshots) run on a second thread and come back as completion events.
 *
 * <p>No event is dropped silently. Admitted events beyond {@link #EVENTS_MAX} are refused at the
 * door: a client's write or barrier is answered OVERLOADED, a peer's message counts as lost
 * (the protocol retransmits). Completions are never refused: without them the loop would think
 * a snapshot job still runs, forever.
 *
 * <p>It also turns what the loop observes (elections, leaders, catch-up, snapshots, expiries) into
 * log lines, each naming this member and the ballot where one applies, and into metrics.
 */
final class ReplicaRunner implements ReplicaEffects, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("dev.synod.server.replication");
  /** Catch-up lines per peer: at most one per this interval (a follower asks every heartbeat). */
  static final long CATCHUP_LOG_INTERVAL_MS = 10_000;
  /** Session expiries are summed into one line at most this often. */
  static final long EXPIRY_LOG_INTERVAL_MS = 1_000;
  /** Session ids named in one expiry line at most. */
  static final int EXPIRY_IDS_LOGGED_MAX = 10;

  /** Admitted events queued for the loop at once. */
  static final int EVENTS_MAX = 100_000;
  /**
   * Events handled as one group (one round of the loop, at most one fsync) and between checks of
   * the tick clock. Large enough for every writer of a busy cluster to share a round.
   */
  static final int GROUP_MAX = 1_024;

  private final PeerTransport transport;
  private final DurableStore store;
  private final Clock clock;
  private final FatalHandler fatal;
  private final ServerMetrics metrics;
  private final int selfId;
  private final long tickNanos;
  /** Loop thread only: when a catch-up line was last written, per peer. */
  private final Map<Integer, Long> catchupLoggedNanos = new TreeMap<>();
  /** Loop thread only: expiries not yet written, and when the last line was. */
  private final List<Long> expiredIds = new ArrayList<>();
  private long expiredCount;
  private long expiryLoggedNanos;
  private final EventInbox inbox = new EventInbox(EVENTS_MAX);
  /** Loop thread only: the events of the round being handled. */
  private final List<ReplicaEvent> group = new ArrayList<>(GROUP_MAX);
  /** Loop thread only: how many events the round being handled has (see {@link #persist}). */
  private int roundEvents;
  private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-snapshot");
    t.setDaemon(true);
    return t;
  });
  /**
   * The persist stage: one Ready's log write and fsync at a time, while the loop thread goes on
   * handling events, applying and answering (and gathering the next batch).
   */
  private final ExecutorService persistStage = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-persist");
    t.setDaemon(true);
    return t;
  });
  /** The copy of a leader's snapshot in progress: background thread only. */
  private final SnapshotDownload download;
  /** Cancels snapshot fetch calls that stop making progress. */
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "synod-snapshot-watchdog");
    t.setDaemon(true);
    return t;
  });
  private final Thread thread;
  private ReplicaLoop loop;
  private volatile boolean running;

  ReplicaRunner(PeerTransport transport, DurableStore store, Clock clock, FatalHandler fatal, long tickMs,
      ServerMetrics metrics) {
    this.transport = transport;
    this.store = store;
    this.clock = clock;
    this.fatal = fatal;
    this.metrics = metrics;
    this.selfId = transport.selfId();
    this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMs);
    this.download = new SnapshotDownload(store.disk(), store::incomingSnapshotFile, 0);
    this.thread = new Thread(this::run, "synod-consensus");
    this.thread.setDaemon(true);
  }

  void start(ReplicaLoop loop) {
    this.loop = loop;
    running = true;
    thread.start();
  }

  /**
   * Queues an event for the loop. An admitted event is refused (false, and its waiter answered)
   * when the loop is not running or its queue is full; a completion is always queued while the
   * loop runs. Every event is handled or refused, shutdown included ({@link EventInbox}).
   */
  boolean post(ReplicaEvent event) {
    return inbox.post(event);
  }

  private void run() {
    long nextTick = clock.monoNanos() + tickNanos;
    try {
      while (running) {
        // Everything that queued up meanwhile (most of it during the last round's fsync) is
        // handled as one group: one batch, one fsync (the loop's group commit).
        if (inbox.take(group, nextTick - clock.monoNanos(), GROUP_MAX) > 0) {
          roundEvents = group.size();
          loop.stepAll(group);
          group.clear();
        }
        long now = clock.monoNanos();
        if (now - nextTick >= 0) {
          roundEvents = 1;
          loop.step(new ReplicaEvent.Tick(now));
          nextTick = Math.max(nextTick + tickNanos, now);
          logExpiries(now, false);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      running = false;
      inbox.close();
      fatal.fatal("log append/fsync failed", e);
      return;
    } catch (RuntimeException | Error e) {
      running = false;
      inbox.close();
      loop.stop("the replication loop failed: " + e, ErrorReason.SHUTTING_DOWN);
      fatal.fatal("replication loop failed", e);
      return;
    }
    loop.stop("the server is shutting down", ErrorReason.SHUTTING_DOWN);
    logExpiries(clock.monoNanos(), true);
    inbox.close();
  }

  // -----------------------------------------------------------------------------------------------
  // ReplicaEffects (loop thread)

  @Override
  public void send(int to, PeerEnvelope envelope) {
    transport.send(to, envelope);
  }

  /**
   * Writes on this thread at low load: when the round being handled was a single event and
   * nothing else waits for the loop. A lone write then costs two thread wake-ups less on every
   * member's path (the hand-off to the persist stage and back), and the loop has nothing to do
   * during its fsync anyway. Under load the stage writes while the loop handles what arrives
   * (acceptances, decisions, answers) and gathers the next batch: writing inline there measured
   * 7-12% fewer writes a second at 16 and 64 clients.
   */
  @Override
  public boolean persist(long round, LogWrite write) throws IOException {
    if (roundEvents <= 1 && inbox.queued() == 0) {
      write.run();
      return true;
    }
    persistStage.execute(() -> {
      IOException failure = null;
      try {
        write.run();
      } catch (IOException e) {
        failure = e;
      } catch (RuntimeException e) {
        failure = new IOException("the log write failed: " + e, e);
      }
      post(new ReplicaEvent.Persisted(round, failure));
    });
    return false;
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) {
    background.execute(() -> {
      boolean stored;
      long start = clock.monoNanos();
      try {
        stored = store.writeSnapshot(snapshot); // false: one as new is already there (fetched)
      } catch (IOException | RuntimeException e) {
        fatal.fatal("snapshot at slot " + snapshot.slot() + " failed", e);
        return;
      }
      if (stored) {
        long nanos = clock.monoNanos() - start;
        long bytes = snapshotBytes(snapshot.slot());
        metrics.snapshotWritten(nanos, bytes);
        LOG.atInfo().addKeyValue("server", selfId).addKeyValue("slot", snapshot.slot())
            .log("server {}: wrote a snapshot through slot {} (zxid {}, {} bytes, {} ms)", selfId,
                snapshot.slot(), snapshot.zxid(), bytes, TimeUnit.NANOSECONDS.toMillis(nanos));
      }
      inbox.post(new ReplicaEvent.SnapshotWritten(snapshot.slot(), stored));
    });
  }

  @Override
  public void fetchSnapshot(int leaderId, long minSlot, long clusterId) {
    background.execute(() -> {
      long start = clock.monoNanos();
      long received = download.bytesReceived();
      LOG.atInfo().addKeyValue("server", selfId).addKeyValue("leader", leaderId)
          .log("server {}: catching up by snapshot: fetching one covering slot {} from server {}{}",
              selfId, minSlot, leaderId, download.durableBytes() > 0
                  ? " (resuming a copy at byte " + download.durableBytes() + ")" : "");
      SnapshotDownload.Done done;
      try {
        done = download.fetch(SnapshotTransfer.overGrpc(transport.blockingStub(leaderId), clock,
            SnapshotTransfer.IDLE_TIMEOUT_MS, watchdog), minSlot, clusterId);
      } catch (SnapshotDownload.TransferException | RuntimeException e) {
        fetchFailed(leaderId, e);
        return;
      } catch (IOException e) {
        fatal.fatal("writing a snapshot from server " + leaderId + " failed", e);
        return;
      }
      Optional<Snapshot> installed;
      try {
        // Verified again as a load verifies it, and loaded, before the loop hears of it.
        installed = store.installReceivedSnapshot(done.identity().getSlot(), done.clusterId());
      } catch (CorruptSnapshotException e) {
        download.rejected(done.identity()); // the leader's file may be damaged: the next fetch says so
        fetchFailed(leaderId, e); // the copy was bad, not this disk
        return;
      } catch (IOException | RuntimeException e) {
        fatal.fatal("installing a snapshot from server " + leaderId + " failed", e);
        return;
      }
      long slot = done.identity().getSlot();
      if (installed.isPresent()) {
        Snapshot s = installed.get();
        long nanos = clock.monoNanos() - start;
        long bytes = done.identity().getSizeBytes();
        metrics.snapshotFetched(nanos, bytes);
        LOG.atInfo().addKeyValue("server", selfId).addKeyValue("leader", leaderId)
            .addKeyValue("slot", s.slot())
            .log("server {}: fetched a snapshot through slot {} (zxid {}, {} bytes, {} received now) from"
                + " server {} in {} ms", selfId, s.slot(), s.zxid(), bytes, download.bytesReceived() - received,
                leaderId, TimeUnit.NANOSECONDS.toMillis(nanos));
        inbox.post(new ReplicaEvent.SnapshotFetched(s, done.clusterId()));
      } else {
        // Not stored: the store already holds one as new, which the loop has applied.
        inbox.post(new ReplicaEvent.SnapshotFetchFailed("a snapshot at slot " + slot + " or newer is already stored"));
      }
    });
  }

  /** Background thread: a fetch failed; the loop asks again when it still needs one. */
  private void fetchFailed(int leaderId, Exception e) {
    metrics.snapshotFetchFailed();
    LOG.atWarn().addKeyValue("server", selfId).addKeyValue("leader", leaderId)
        .log("server {}: snapshot fetch from server {} failed, will retry: {}", selfId, leaderId,
            e.toString());
    inbox.post(new ReplicaEvent.SnapshotFetchFailed(e.toString()));
  }

  /** The size of the stored snapshot of {@code slot} on disk; 0 if it cannot be told. */
  private long snapshotBytes(long slot) {
    try {
      Path file = store.snapshotFiles().get(slot);
      return file == null ? 0 : Files.size(file);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  @Override
  public void membershipChanged(dev.synod.consensus.Membership membership, boolean proposed) {
    transport.adopt(membership, proposed);
  }

  @Override
  public void notice(String line) {
    LOG.atInfo().addKeyValue("server", selfId).log(line);
  }

  // -----------------------------------------------------------------------------------------------
  // What an operator watches (loop thread)

  @Override
  public void electionStarted(Ballot ballot) {
    metrics.electionStarted();
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("ballot", ballot.toString())
        .log("server {}: starting an election at ballot {}", selfId, ballot);
  }

  @Override
  public void electionLost(Ballot ballot, int leaderId, Ballot promised) {
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("ballot", ballot.toString())
        .log("server {}: lost the election at ballot {} ({})", selfId, ballot,
            leaderId >= 0 ? "server " + leaderId + " leads at ballot " + promised
                : "a higher ballot " + promised + " was promised");
  }

  @Override
  public void leaderChanged(int leaderId, Ballot ballot, boolean leading) {
    if (leaderId >= 0) {
      metrics.leaderChanged();
    }
    var line = LOG.atInfo().addKeyValue("server", selfId).addKeyValue("ballot", ballot.toString())
        .addKeyValue("leader", leaderId);
    if (leading) {
      line.log("server {}: won the election: leader at ballot {}", selfId, ballot);
    } else if (leaderId >= 0) {
      line.log("server {}: following server {} (leader at ballot {})", selfId, leaderId, ballot);
    } else {
      line.log("server {}: no leader known (highest ballot promised {})", selfId, ballot);
    }
  }

  @Override
  public void catchingUp(int leaderId, long fromSlot) {
    long now = clock.monoNanos();
    Long last = catchupLoggedNanos.get(leaderId);
    if (last != null && now - last < TimeUnit.MILLISECONDS.toNanos(CATCHUP_LOG_INTERVAL_MS)) {
      return;
    }
    catchupLoggedNanos.put(leaderId, now);
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("leader", leaderId)
        .log("server {}: catching up by entries from server {}, from slot {}", selfId, leaderId, fromSlot);
  }

  @Override
  public void snapshotRequired(int peer, long snapshotSlot) {
    long now = clock.monoNanos();
    Long last = catchupLoggedNanos.get(-peer);
    if (last != null && now - last < TimeUnit.MILLISECONDS.toNanos(CATCHUP_LOG_INTERVAL_MS)) {
      return;
    }
    catchupLoggedNanos.put(-peer, now);
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("peer", peer)
        .log("server {}: server {} is behind the compacted log (snapshot through slot {}): it must fetch"
            + " a snapshot", selfId, peer, snapshotSlot);
  }

  @Override
  public void snapshotInstalled(long slot) {
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("slot", slot)
        .log("server {}: installed the leader's snapshot through slot {}", selfId, slot);
  }

  @Override
  public void batchProposed(int txns, int bytes) {
    metrics.batchProposed(txns, bytes);
  }

  @Override
  public void sessionExpired(long sessionId, long zxid) {
    metrics.sessionExpired();
    expiredCount++;
    if (expiredIds.size() < EXPIRY_IDS_LOGGED_MAX) {
      expiredIds.add(sessionId);
    }
  }

  /** One line for the expiries applied since the last, at most every EXPIRY_LOG_INTERVAL_MS. */
  private void logExpiries(long now, boolean force) {
    if (expiredCount == 0
        || (!force && now - expiryLoggedNanos < TimeUnit.MILLISECONDS.toNanos(EXPIRY_LOG_INTERVAL_MS))) {
      return;
    }
    StringBuilder ids = new StringBuilder();
    for (long id : expiredIds) {
      ids.append(ids.length() == 0 ? "" : ", ").append("0x").append(Long.toHexString(id));
    }
    if (expiredCount > expiredIds.size()) {
      ids.append(", ...");
    }
    LOG.atInfo().addKeyValue("server", selfId).addKeyValue("expired", expiredCount)
        .log("server {}: {} session(s) expired (decided in the log): {}", selfId, expiredCount, ids);
    expiredCount = 0;
    expiredIds.clear();
    expiryLoggedNanos = now;
  }

  /** Admitted events waiting for the loop (any thread). */
  int queuedEvents() {
    return inbox.queued();
  }

  @Override
  public void close() {
    if (!running) {
      inbox.close(); // never started, or stopped by a failure: nothing posted stays unanswered
      return;
    }
    running = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    inbox.close(); // the loop closes it as it ends; if it is still stuck in a round, here
    download.stop(); // a fetch in progress ends at its next piece, or within its idle timeout
    background.shutdown();
    persistStage.shutdown(); // a write in flight finishes; the store is closed only after this
    try {
      background.awaitTermination(30, TimeUnit.SECONDS);
      persistStage.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    watchdog.shutdownNow();
    snapshotAtStop();
  }

  /**
   * A clean stop leaves a snapshot of everything applied, so the next start loads it and replays
   * nothing from the log (after kill -9 it replays what came after the last snapshot). The loop
   * has stopped stepping, so its state and applied slot stay still; a snapshot that could not be
   * written costs only the replay, never data (the log still holds every decided slot).
   */
  private void snapshotAtStop() {
    if (loop == null || thread.isAlive() || Thread.currentThread().isInterrupted()) {
      return;
    }
    long applied = loop.appliedSlot();
    if (applied <= store.snapshotSlot()) {
      return;
    }
    try {
      store.writeSnapshot(loop.stateAtStop().withSlot(applied));
    } catch (IOException | RuntimeException e) {
      LOG.warn("no snapshot at stop (the next start replays the log instead): {}", e.toString());
    }
  }
}
