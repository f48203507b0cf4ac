package dev.synod.server;

import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.pipeline.LocalSequencer;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.Snapshotter;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.CorruptLogException;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.LogEntry;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import io.grpc.Server;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One running Synod server: recovers the state from the store, then starts the pipeline, the
 * housekeeping and the gRPC server; stops them in the reverse order.
 */
public final class SynodNode implements AutoCloseable {
  private final DurableStore store;
  private final StateMachine state;
  private final SessionTracker tracker;
  private final LocalSequencer sequencer;
  private final Snapshotter snapshotter;
  private final Housekeeper housekeeper;
  private final Server server;
  private final HealthStatusManager health;
  private volatile boolean closed;

  public SynodNode(
      DurableStore store,
      StateMachine state,
      SessionTracker tracker,
      LocalSequencer sequencer,
      Snapshotter snapshotter,
      Housekeeper housekeeper,
      Server server,
      HealthStatusManager health) {
    this.store = store;
    this.state = state;
    this.tracker = tracker;
    this.sequencer = sequencer;
    this.snapshotter = snapshotter;
    this.housekeeper = housekeeper;
    this.server = server;
    this.health = health;
  }

  /**
   * Recovers and starts serving.
   *
   * @throws IOException a {@link dev.synod.server.storage.CorruptLogException} or
   *     {@link dev.synod.server.storage.CorruptSnapshotException} when the data cannot be trusted:
   *     the server refuses to start rather than serve wrong data
   */
  public SynodNode start() throws IOException {
    recover();
    // Every recovered session gets a full timeout from now to reconnect.
    for (StateMachine.SessionInfo s : state.sessions()) {
      tracker.add(s.id(), s.timeoutMs());
    }
    sequencer.start();
    housekeeper.start();
    server.start();
    return this;
  }

  private void recover() throws IOException {
    Optional<Snapshot> snapshot = store.loadSnapshot();
    snapshot.ifPresent(state::restore);
    // Each log record is one batch (LocalSequencer); records older than the snapshot come first.
    try {
      store.replayLog(this::replay);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private void replay(LogEntry entry) {
    if (!entry.hasAccepted()) {
      return;
    }
    try {
      for (Txn txn : TxnBatch.parseFrom(entry.getAccepted().getValue()).getTxnsList()) {
        long last = state.lastZxid();
        if (txn.getZxid() <= last) {
          continue; // already in the snapshot
        }
        if (txn.getZxid() != last + 1) {
          throw new CorruptLogException("log record " + entry.getIndex() + " continues at zxid "
              + txn.getZxid() + " but the state is at zxid " + last + ": the transactions in"
              + " between are missing; Synod refuses to start rather than serve wrong data");
        }
        state.apply(txn, response -> {});
      }
    } catch (IOException e) { // includes a value that is not a TxnBatch
      throw new UncheckedIOException(e);
    }
  }

  /** The port the server listens on (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  public StateMachine state() {
    return state;
  }

  public LocalSequencer sequencer() {
    return sequencer;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    health.enterTerminalState();
    server.shutdown();
    housekeeper.close();
    sequencer.close();
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    snapshotter.close();
    try {
      store.close();
    } catch (IOException e) {
      System.err.println("synod: closing the store failed: " + e);
    }
  }
}
