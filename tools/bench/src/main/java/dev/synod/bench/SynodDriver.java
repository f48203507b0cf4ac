package dev.synod.bench;

import dev.synod.api.v1.EventType;
import dev.synod.api.v1.NodeKind;
import dev.synod.client.CreateOptions;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.List;

/**
 * Synod through its Java SDK: one {@link SynodClient} (one session) per client, connected to a
 * single server. Reads are the SDK's default: served by that server, sequentially consistent.
 */
final class SynodDriver implements Driver {
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CONNECT_WAIT = Duration.ofSeconds(60);
  private static final CreateOptions EPHEMERAL_SEQUENTIAL = CreateOptions.of(NodeKind.EPHEMERAL).sequential();

  private final List<String> targets;

  SynodDriver(List<String> targets) {
    this.targets = List.copyOf(targets);
  }

  @Override
  public Session open(int client) throws Exception {
    SynodClient c = SynodClient.builder()
        .connectString(targets.get(client % targets.size()))
        .sessionTimeout(SESSION_TIMEOUT)
        .build()
        .start();
    if (!c.blockUntilConnected(CONNECT_WAIT)) {
      c.close();
      throw new IllegalStateException("no Synod session with " + targets.get(client % targets.size())
          + " within " + CONNECT_WAIT.toSeconds() + " s");
    }
    return new SynodSession(c);
  }

  @Override
  public void close() {}

  private static final class SynodSession implements Session {
    private final SynodClient client;

    SynodSession(SynodClient client) {
      this.client = client;
    }

    @Override
    public void createIfAbsent(String path, byte[] value) {
      try {
        client.create(path, value);
      } catch (NodeExistsException e) {
        // already there from an earlier run: fine
      }
    }

    @Override
    public void put(String path, byte[] value) {
      client.setData(path, value, -1);
    }

    @Override
    public byte[] get(String path) {
      return client.getData(path).data();
    }

    @Override
    public byte[] getLinearizable(String path) {
      return client.linearizable().getData(path).data();
    }

    @Override
    public String createEphemeralSequential(String parent, byte[] value) {
      return client.create(parent + "/e-", value, EPHEMERAL_SEQUENTIAL).path();
    }

    @Override
    public void delete(String path) {
      client.delete(path, -1);
    }

    @Override
    public AutoCloseable watch(String path, Runnable onChange) {
      return client.addWatch(path, false, false, event -> {
        if (event.type() == EventType.NODE_DATA_CHANGED) {
          onChange.run();
        }
      });
    }

    @Override
    public BenchLock lock(String path) {
      return new SynodLock(client, path);
    }

    @Override
    public void close() {
      client.close();
    }
  }
}
