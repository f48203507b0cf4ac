package dev.synod.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The parts of one client, wired together, that the client and its deadline views
 * ({@link SynodClient#withDeadline}) share: the loop and its clock, the session with its requests
 * and watches, the state, the hand-over threads, the channels; and their start and close.
 */
final class ClientCore {
  private static final Logger LOG = Logger.getLogger(ClientCore.class.getName());

  final ClientLoop loop;
  final Callbacks callbacks;
  final StateTracker state;
  final Servers servers;
  final Session session;
  /** start() was called (by the user, or by the first request, which connects the client). */
  private volatile boolean startRequested;

  ClientCore(SynodClient.Builder b, ClientLoop loop, ChannelFactory channelFactory) {
    this.loop = loop;
    this.callbacks = new Callbacks();
    this.state = new StateTracker(callbacks, b.listeners());
    this.servers = new Servers(b.servers(), channelFactory, loop::execute);
    this.session = new Session(loop, servers, b.retryPolicy(), b.sessionTimeoutMs(), b.reconnectAfterExpiry(),
        b.credentials(), state, callbacks);
  }

  /** Starts connecting (once). Any thread. */
  void start() {
    startRequested = true;
    loop.execute(session::start);
  }

  /** Connects now if nobody has yet: a request before start() would otherwise wait forever. */
  void startIfNeeded() {
    if (!startRequested) {
      start();
    }
  }

  /**
   * Closes the session (waiting a while for the server to confirm) and releases everything. Any
   * thread but the loop's; idempotent.
   */
  void close() {
    CompletableFuture<Void> ack = new CompletableFuture<>();
    if (!loop.execute(() -> session.beginClose(ack))) {
      return; // closed already
    }
    try {
      ack.get(Math.max(1000, session.timeoutMs()), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "close: no answer from the server", e);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    loop.execute(() -> {
      session.finishClose();
      done.complete(null);
    });
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "close", e);
    }
    loop.shutdown();
    servers.shutdown();
    callbacks.shutdown();
  }
}
