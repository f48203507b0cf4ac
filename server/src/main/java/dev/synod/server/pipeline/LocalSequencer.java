package dev.synod.server.pipeline;

import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Response;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import dev.synod.server.storage.DurableStore;
import dev.synod.txn.v1.AcceptedEntry;
import dev.synod.txn.v1.LogEntry;
import dev.synod.txn.v1.Txn;
import dev.synod.txn.v1.TxnBatch;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * The write pipeline of a single node (a cluster of one). One commit thread takes everything
 * queued, stamps zxid and time, appends the batch to the log with a single fsync (group commit:
 * writes that arrive during an fsync share the next one), then applies the batch in order.
 * Nothing is applied, and so nothing acknowledged, before it is durable.
 *
 * <p>Until the replicated driver replaces it, each batch is logged as one {@code accepted} log
 * entry whose value is the batch's {@link TxnBatch} and whose slot is the entry's own log index
 * (so the snapshot covering a batch is at that slot, and the log can be truncated by slot).
 */
public final class LocalSequencer implements WritePipeline, AutoCloseable {
  /** Either a write (txn != null) or a barrier. */
  private record Item(Txn.Builder txn, Applied applied, LongConsumer barrier, int sizeBytes) {}

  private final DurableStore store;
  private final StateMachine state;
  private final Snapshotter snapshotter;
  private final Clock clock;
  private final FatalHandler fatal;
  private final int batchTxnsMax;
  private final int batchBytesMax;
  private final BlockingQueue<Item> queue;
  private final SecureRandom secrets = new SecureRandom();
  private final Thread thread;

  private volatile boolean accepting = true;
  private volatile ErrorReason refusal = ErrorReason.SHUTTING_DOWN;
  private long lastZxid;
  private long lastTimeMs;
  private final Metrics metrics = new Metrics();

  /** Counters for the status call and benchmarks. */
  public static final class Metrics {
    public volatile long batches;
    public volatile long txns;
  }

  public LocalSequencer(
      DurableStore store,
      StateMachine state,
      Snapshotter snapshotter,
      Clock clock,
      FatalHandler fatal,
      int pendingWritesMax,
      int batchTxnsMax,
      int batchBytesMax) {
    this.store = store;
    this.state = state;
    this.snapshotter = snapshotter;
    this.clock = clock;
    this.fatal = fatal;
    this.batchTxnsMax = batchTxnsMax;
    this.batchBytesMax = batchBytesMax;
    this.queue = new ArrayBlockingQueue<>(pendingWritesMax);
    this.thread = new Thread(this::run, "synod-commit");
    this.thread.setDaemon(true);
  }

  /** Starts sequencing after the state was recovered. */
  public void start() {
    lastZxid = state.lastZxid();
    lastTimeMs = 0;
    thread.start();
  }

  public Metrics metrics() {
    return metrics;
  }

  @Override
  public void submit(Txn.Builder txn, Applied onApplied) throws SynodException {
    enqueue(new Item(txn, onApplied, null, txn.build().getSerializedSize()));
  }

  @Override
  public void barrier(LongConsumer afterApplied) throws SynodException {
    enqueue(new Item(null, null, afterApplied, 0));
  }

  private void enqueue(Item item) throws SynodException {
    if (!accepting) {
      throw new SynodException(refusal, "the server is not accepting writes: " + refusal);
    }
    if (!queue.offer(item)) {
      throw new SynodException(ErrorReason.OVERLOADED,
          "write queue is full (" + queue.size() + " pending); retry with backoff");
    }
  }

  private void run() {
    List<Item> items = new ArrayList<>();
    List<Txn> txns = new ArrayList<>();
    while (accepting || !queue.isEmpty()) {
      Item first;
      try {
        first = queue.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        break;
      }
      if (first == null) {
        continue;
      }
      items.clear();
      txns.clear();
      items.add(first);
      int bytes = first.sizeBytes();
      int writes = first.txn() != null ? 1 : 0;
      Item next;
      while (writes < batchTxnsMax && bytes < batchBytesMax && (next = queue.poll()) != null) {
        items.add(next);
        bytes += next.sizeBytes();
        if (next.txn() != null) {
          writes++;
        }
      }
      for (Item item : items) {
        if (item.txn() != null) {
          txns.add(stamp(item.txn()));
        }
      }
      if (!txns.isEmpty()) {
        try {
          // Slot = the index the store gives this record (this thread is the only appender).
          long slot = store.lastIndex() + 1;
          store.appendAndSync(List.of(LogEntry.newBuilder()
              .setAccepted(AcceptedEntry.newBuilder()
                  .setSlot(slot)
                  .setValue(TxnBatch.newBuilder().addAllTxns(txns).build().toByteString()))
              .build()));
        } catch (IOException | RuntimeException e) {
          failAll(items, e);
          return;
        }
        metrics.batches++;
        metrics.txns += txns.size();
      }
      int t = 0;
      for (Item item : items) {
        if (item.txn() != null) {
          Txn txn = txns.get(t++);
          state.apply(txn, response -> item.applied().onApplied(txn, response));
        } else {
          item.barrier().accept(state.lastZxid());
        }
      }
      if (!txns.isEmpty()) {
        snapshotter.afterApply(state.lastZxid());
      }
    }
    drainRefused(ErrorReason.SHUTTING_DOWN, "the server is shutting down");
  }

  private Txn stamp(Txn.Builder txn) {
    long zxid = ++lastZxid;
    // Never let stamped time go backwards, even if the wall clock does.
    lastTimeMs = Math.max(lastTimeMs, clock.wallMs());
    txn.setZxid(zxid).setTimeMs(lastTimeMs);
    if (txn.hasCreateSession()) {
      // A session's id is the zxid that created it: unique, and the same on every replica.
      txn.setSessionId(zxid);
      txn.getCreateSessionBuilder().setSecret(secrets.nextLong());
    }
    return txn.build();
  }

  private void failAll(List<Item> batch, Throwable cause) {
    refusal = ErrorReason.STORAGE_FAILURE;
    accepting = false;
    String message = "the log could not be written; this server stopped serving writes: " + cause;
    for (Item item : batch) {
      refuse(item, ErrorReason.STORAGE_FAILURE, message);
    }
    drainRefused(ErrorReason.STORAGE_FAILURE, message);
    fatal.fatal("log append/fsync failed", cause);
  }

  private void drainRefused(ErrorReason reason, String message) {
    Item item;
    while ((item = queue.poll()) != null) {
      refuse(item, reason, message);
    }
  }

  private static void refuse(Item item, ErrorReason reason, String message) {
    if (item.txn() == null) {
      return;
    }
    Txn txn = item.txn().build();
    Response response = Response.newBuilder()
        .setRequestNo(txn.getRequestNo())
        .setError(new SynodException(reason, message).toError())
        .build();
    item.applied().onApplied(txn, response);
  }

  /** Stops accepting, lets queued writes finish, then stops the commit thread. */
  @Override
  public void close() {
    accepting = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
