package dev.synod.server.replication;

import dev.synod.api.v1.ErrorReason;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a {@link ReplicaLoop} in production: one thread steps it with the events posted from
 * gRPC threads and with ticks from the monotonic clock; its background jobs (writing and
 * fetching snapshots) run on a second thread and come back as completion events.
 *
 * <p>No event is dropped silently. Admitted events beyond {@link #EVENTS_MAX} are refused at the
 * door: a client's write or barrier is answered OVERLOADED, a peer's message counts as lost
 * (the protocol retransmits). Completions are never refused: without them the loop would think
 * a snapshot job still runs, forever.
 */
final class ReplicaRunner implements ReplicaEffects, AutoCloseable {
  /** Admitted events queued for the loop at once. */
  static final int EVENTS_MAX = 100_000;
  /** Events handled between checks of the tick clock. */
  static final int EVENTS_PER_ROUND_MAX = 10_000;

  private final PeerTransport transport;
  private final DurableStore store;
  private final Clock clock;
  private final FatalHandler fatal;
  private final long tickNanos;
  private final LinkedBlockingQueue<ReplicaEvent> events = new LinkedBlockingQueue<>();
  private final AtomicInteger admitted = new AtomicInteger();
  private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-snapshot");
    t.setDaemon(true);
    return t;
  });
  private final Thread thread;
  private ReplicaLoop loop;
  private volatile boolean running;

  ReplicaRunner(PeerTransport transport, DurableStore store, Clock clock, FatalHandler fatal, long tickMs) {
    this.transport = transport;
    this.store = store;
    this.clock = clock;
    this.fatal = fatal;
    this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMs);
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
   * when the loop is not running or its queue is full; a completion is always queued.
   */
  boolean post(ReplicaEvent event) {
    if (!running) {
      event.refuse(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
      return false;
    }
    if (event.admitted()) {
      if (admitted.incrementAndGet() > EVENTS_MAX) {
        admitted.decrementAndGet();
        event.refuse(ErrorReason.OVERLOADED, "the replication queue is full ("
            + EVENTS_MAX + " events); retry with backoff");
        return false;
      }
    }
    events.add(event);
    return true;
  }

  private void run() {
    long nextTick = clock.monoNanos() + tickNanos;
    try {
      while (running) {
        long wait = nextTick - clock.monoNanos();
        ReplicaEvent event = wait > 0 ? events.poll(wait, TimeUnit.NANOSECONDS) : events.poll();
        int handled = 0;
        while (event != null) {
          if (event.admitted()) {
            admitted.decrementAndGet();
          }
          loop.step(event);
          if (++handled >= EVENTS_PER_ROUND_MAX) {
            break;
          }
          event = events.poll();
        }
        long now = clock.monoNanos();
        if (now - nextTick >= 0) {
          loop.step(new ReplicaEvent.Tick(now));
          nextTick = Math.max(nextTick + tickNanos, now);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      running = false;
      fatal.fatal("log append/fsync failed", e);
      return;
    } catch (RuntimeException | Error e) {
      running = false;
      loop.stop("the replication loop failed: " + e, ErrorReason.SHUTTING_DOWN);
      fatal.fatal("replication loop failed", e);
      return;
    }
    loop.stop("the server is shutting down", ErrorReason.SHUTTING_DOWN);
    ReplicaEvent left;
    while ((left = events.poll()) != null) {
      left.refuse(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // ReplicaEffects (loop thread)

  @Override
  public void send(int to, PeerEnvelope envelope) {
    transport.send(to, envelope);
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) {
    background.execute(() -> {
      boolean stored;
      try {
        stored = store.writeSnapshot(snapshot); // false: one as new is already there (fetched)
      } catch (IOException | RuntimeException e) {
        fatal.fatal("snapshot at slot " + snapshot.slot() + " failed", e);
        return;
      }
      events.add(new ReplicaEvent.SnapshotWritten(snapshot.slot(), stored));
    });
  }

  @Override
  public void fetchSnapshot(int leaderId, long minSlot, long clusterId) {
    background.execute(() -> {
      SnapshotTransfer.Received received;
      try {
        received = SnapshotTransfer.fetch(transport.blockingStub(leaderId), minSlot, clusterId);
      } catch (RuntimeException e) {
        System.err.println("synod: snapshot fetch from server " + leaderId + " failed, will retry: " + e);
        events.add(new ReplicaEvent.SnapshotFetchFailed(e.toString()));
        return;
      }
      Snapshot s = received.snapshot();
      boolean stored;
      try {
        stored = store.installSnapshot(s);
      } catch (IOException | RuntimeException e) {
        fatal.fatal("installing a snapshot from server " + leaderId + " failed", e);
        return;
      }
      // Not stored: the store already holds one as new, which the loop has applied.
      events.add(stored ? new ReplicaEvent.SnapshotFetched(s, received.clusterId())
          : new ReplicaEvent.SnapshotFetchFailed("a snapshot at slot " + s.slot() + " or newer is already stored"));
    });
  }

  @Override
  public void notice(String line) {
    System.out.println("synod: " + line);
  }

  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    background.shutdown();
    try {
      background.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
      System.err.println("synod: no snapshot at stop (the next start replays the log instead): " + e);
    }
  }
}
