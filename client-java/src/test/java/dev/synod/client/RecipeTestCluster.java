package dev.synod.client;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Public access, for tests of other packages (the recipes), to {@link LocalServers} and to the
 * client's package-private test hooks.
 */
public final class RecipeTestCluster implements AutoCloseable {
  private final LocalServers servers;

  /** {@code size} real servers on loopback ({@code extra}: more server flags). */
  public RecipeTestCluster(Path dir, int size, String... extra) throws Exception {
    this.servers = new LocalServers(dir, size, extra);
  }

  public String connectString() {
    return servers.connectString();
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
    SynodClient c = SynodClient.builder().connectString(connectString()).sessionTimeout(sessionTimeout)
        .reconnectAfterExpiry(reconnectAfterExpiry).build().start();
    if (!c.blockUntilConnected(Duration.ofSeconds(10))) {
      c.close();
      throw new AssertionError("client did not connect");
    }
    return c;
  }

  /** See {@link SynodClient#testPartition}: the client sends nothing while on. */
  public static void partition(SynodClient client, boolean on) {
    client.testPartition(on);
  }

  /** See {@link SynodClient#testHoldReconnect}: a lost stream is not replaced while on. */
  public static void holdReconnect(SynodClient client, boolean on) {
    client.testHoldReconnect(on);
  }

  /** See {@link SynodClient#testDisconnect}: drops the client's stream now. */
  public static void disconnect(SynodClient client) {
    client.testDisconnect();
  }

  /** Cuts the client off until its session has expired on the server, then lets it reconnect. */
  public static void expireSession(SynodClient client) throws InterruptedException {
    client.testPartition(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (client.state() != ConnectionState.EXPIRED && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (client.state() != ConnectionState.EXPIRED) {
      throw new AssertionError("the session did not expire");
    }
    client.testPartition(false);
  }

  @Override
  public void close() {
    servers.close();
  }
}
