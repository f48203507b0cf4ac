package dev.synod.client;

import java.nio.file.Path;

/**
 * Real servers over loopback ({@link LocalServers}) and the client's test hooks, for tests in
 * other packages (the recipes). A stopped server restarts on the same client port.
 */
public final class RecipeTestCluster implements AutoCloseable {
  private final LocalServers servers;

  private RecipeTestCluster(LocalServers servers) {
    this.servers = servers;
  }

  /** Starts {@code size} servers (1, or 3 for a replicated cluster with short timers). */
  public static RecipeTestCluster start(Path dir, int size) throws Exception {
    LocalServers s = new LocalServers(dir, size);
    if (size > 1) {
      s.awaitLeader();
    }
    return new RecipeTestCluster(s);
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

  /** While on, the client sends nothing (no heartbeats, requests or reconnects). */
  public static void partition(SynodClient client, boolean on) {
    client.testPartition(on);
  }

  /** While on, the client ignores responses as if lost in transit. */
  public static void dropResponses(SynodClient client, boolean on) {
    client.testDropResponses(on);
  }

  /** While on, a lost stream is not replaced. */
  public static void holdReconnect(SynodClient client, boolean on) {
    client.testHoldReconnect(on);
  }

  @Override
  public void close() {
    servers.close();
  }
}
