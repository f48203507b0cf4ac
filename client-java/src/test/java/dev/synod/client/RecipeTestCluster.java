package dev.synod.client;

import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Real servers over loopback ({@link LocalServers}) and network faults for clients made by
 * {@link #client} ({@link Faults}), for tests in other packages (the recipes). A stopped server restarts on the same client port.
 */
public final class RecipeTestCluster implements AutoCloseable {
  private final LocalServers servers;

  /** {@code size} real servers on loopback ({@code extra}: more server flags). */
  public RecipeTestCluster(Path dir, int size, String... extra) throws Exception {
    this.servers = new LocalServers(dir, size, extra);
  }

  /** Starts {@code size} servers (1, or 3 for a replicated cluster with short timers) and, for a cluster, waits for a leader. */
  public static RecipeTestCluster start(Path dir, int size) throws Exception {
    RecipeTestCluster c = new RecipeTestCluster(dir, size);
    if (size > 1) {
      c.awaitLeader();
    }
    return c;
  }

  /** Every server, including stopped ones (they come back on the same port). */
  public String connectString() {
    return servers.fullConnectString();
  }

  public int size() {
    return servers.nodes.length - 1;
  }

  public boolean isRunning(int id) {
    return servers.nodes[id] != null;
  }

  /** The id of the running server on {@code port}. */
  public int idOfPort(int port) {
    return servers.idOfPort(port);
  }

  public void stop(int id) {
    servers.stop(id);
  }

  public void restart(int id) throws Exception {
    servers.start(id);
  }

  public int awaitLeader() throws InterruptedException {
    return servers.awaitLeader();
  }

  /** Stops the server the client is connected to; returns its id. */
  public int stopServerOf(SynodClient client) {
    int id = servers.idOfPort(client.currentServer().getPort());
    servers.stop(id);
    return id;
  }

  /** A started client with the given session timeout, connected. */
  public SynodClient client(Duration sessionTimeout, boolean reconnectAfterExpiry) throws InterruptedException {
    SynodClient c = Faults.build(SynodClient.builder().connectString(connectString()).sessionTimeout(sessionTimeout)
        .reconnectAfterExpiry(reconnectAfterExpiry)).start();
    if (!c.blockUntilConnected(Duration.ofSeconds(10))) {
      c.close();
      throw new AssertionError("client did not connect");
    }
    return c;
  }

  /** See {@link Faults#partition}: while on, nothing passes between the client and the servers. */
  public static void partition(SynodClient client, boolean on) {
    Faults.of(client).partition(on);
  }

  /** While on, the client ignores responses as if lost in transit. */
  public static void dropResponses(SynodClient client, boolean on) {
    Faults.of(client).dropResponses(on);
  }

  /** See {@link Faults#holdReconnect}: new connections fail while on. */
  public static void holdReconnect(SynodClient client, boolean on) {
    Faults.of(client).holdReconnect(on);
  }

  /** See {@link Faults#disconnect}: breaks the client's connection now. */
  public static void disconnect(SynodClient client) {
    Faults.of(client).disconnect();
  }

  /**
   * Cuts the client off until its session has expired on the server, then lets it reconnect. The
   * client gives the session up by itself (no server heard from for its timeout); the server
   * expires it on its own clock, about then: an ephemeral marker shows when it has.
   */
  public static void expireSession(SynodClient client) throws InterruptedException {
    String marker = client.create("/expire-marker-", new byte[0],
        CreateOptions.of(dev.synod.api.v1.NodeKind.EPHEMERAL).sequential()).path();
    Faults.of(client).partition(true);
    Eventually.eventually(Duration.ofSeconds(15), "client.state() == ConnectionState.EXPIRED", () -> client.state() == ConnectionState.EXPIRED);
    if (client.state() != ConnectionState.EXPIRED) {
      throw new AssertionError("the session did not expire");
    }
    try (SynodClient observer = SynodClient.builder().connectString(Faults.of(client).dialedConnectString()).build().start()) {
      Eventually.eventually(Duration.ofSeconds(15), "the servers removed the expired session's " + marker,
          () -> observer.exists(marker) == null);
      if (observer.exists(marker) != null) {
        throw new AssertionError("the servers did not expire the session");
      }
    }
    Faults.of(client).partition(false);
  }

  @Override
  public void close() {
    servers.close();
  }
}
