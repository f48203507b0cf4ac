package dev.synod.server;

import dev.synod.server.observe.Observability;
import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.replication.ConsensusDriver;
import dev.synod.server.replication.PeerTransport;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.DurableStore;
import io.grpc.Server;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * One running Synod server: recovers its state and starts consensus, then the peer endpoint (in
 * a cluster), housekeeping and the client endpoint; stops them in the reverse order.
 */
public final class SynodNode implements AutoCloseable {
  private final DurableStore store;
  private final StateMachine state;
  private final ConsensusDriver driver;
  private final PeerTransport peers;
  private final Optional<Server> peerServer;
  private final Housekeeper housekeeper;
  private final Server server;
  private final HealthStatusManager health;
  private final Observability observability;
  private volatile boolean closed;

  public SynodNode(
      DurableStore store,
      StateMachine state,
      ConsensusDriver driver,
      PeerTransport peers,
      Optional<Server> peerServer,
      Housekeeper housekeeper,
      Server server,
      HealthStatusManager health,
      Observability observability) {
    this.store = store;
    this.state = state;
    this.driver = driver;
    this.peers = peers;
    this.peerServer = peerServer;
    this.housekeeper = housekeeper;
    this.server = server;
    this.health = health;
    this.observability = observability;
  }

  /**
   * Recovers and starts serving.
   *
   * @throws IOException a {@link dev.synod.server.storage.CorruptLogException} or
   *     {@link dev.synod.server.storage.CorruptSnapshotException} when the data cannot be trusted:
   *     the server refuses to start rather than serve wrong data
   */
  public SynodNode start() throws IOException {
    driver.start();
    if (peerServer.isPresent()) {
      peerServer.get().start();
    }
    housekeeper.start();
    observability.start(); // health status set before clients can ask; the metrics port bound
    server.start();
    return this;
  }

  /** The client port (useful with port 0). */
  public int port() {
    return server.getPort();
  }

  /** The metrics port (useful with metrics-port 0), or -1 without one. */
  public int metricsPort() {
    return observability.metricsPort();
  }

  public StateMachine state() {
    return state;
  }

  public ConsensusDriver driver() {
    return driver;
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
    observability.close();
    health.enterTerminalState();
    server.shutdown();
    housekeeper.close();
    driver.close();
    peers.close();
    peerServer.ifPresent(Server::shutdownNow);
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      store.close();
    } catch (IOException e) {
      LoggerFactory.getLogger(SynodNode.class).warn("closing the store failed: {}", e.toString());
    }
  }
}
