package dev.synod.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * etcd through jetcd. etcd has no sessions: a gRPC channel carries any number of concurrent
 * requests, so the driver opens one jetcd {@link Client} per server and spreads the clients over
 * them; each client gets a lease of its own (kept alive), which is what etcd ties ephemeral keys
 * and locks to. Reads are serializable (served by the member the channel talks to, like the local
 * reads of ZooKeeper and Synod) rather than etcd's linearizable default.
 */
final class EtcdDriver implements Driver {
  private static final long LEASE_TTL_S = 30;
  private static final long CALL_TIMEOUT_S = 30;
  private static final GetOption SERIALIZABLE = GetOption.builder().withSerializable(true).build();

  private final List<String> targets;
  private final List<Client> clients = new ArrayList<>();

  EtcdDriver(List<String> targets) {
    this.targets = List.copyOf(targets);
  }

  @Override
  public synchronized Session open(int client) throws Exception {
    while (clients.size() < targets.size()) {
      clients.add(Client.builder().endpoints("http://" + targets.get(clients.size())).build());
    }
    Client c = clients.get(client % clients.size());
    long lease = await(c.getLeaseClient().grant(LEASE_TTL_S)).getID();
    CloseableClient keepAlive = c.getLeaseClient().keepAlive(lease, new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    return new EtcdSession(c, lease, keepAlive, client);
  }

  @Override
  public synchronized void close() {
    for (Client c : clients) {
      c.close();
    }
    clients.clear();
  }

  static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static final class EtcdSession implements Session {
    private final Client client;
    private final KV kv;
    private final long lease;
    private final CloseableClient keepAlive;
    private final String ephemeralPrefix;
    private final AtomicLong ephemeralNo = new AtomicLong();

    EtcdSession(Client client, long lease, CloseableClient keepAlive, int clientNo) {
      this.client = client;
      this.kv = client.getKVClient();
      this.lease = lease;
      this.keepAlive = keepAlive;
      this.ephemeralPrefix = "/c" + clientNo + "-";
    }

    @Override
    public void createIfAbsent(String path, byte[] value) throws Exception {
      // etcd keys are flat: nothing to create for parents, and a put of the same value is harmless.
      await(kv.put(bytes(path), ByteSequence.from(value)));
    }

    @Override
    public void put(String path, byte[] value) throws Exception {
      await(kv.put(bytes(path), ByteSequence.from(value)));
    }

    @Override
    public byte[] get(String path) throws Exception {
      GetResponse r = await(kv.get(bytes(path), SERIALIZABLE));
      if (r.getKvs().isEmpty()) {
        throw new IllegalStateException("no key " + path);
      }
      return r.getKvs().get(0).getValue().getBytes();
    }

    @Override
    public byte[] getLinearizable(String path) throws Exception {
      GetResponse r = await(kv.get(bytes(path))); // etcd's default Range is linearizable
      if (r.getKvs().isEmpty()) {
        throw new IllegalStateException("no key " + path);
      }
      return r.getKvs().get(0).getValue().getBytes();
    }

    @Override
    public String createEphemeralSequential(String parent, byte[] value) throws Exception {
      // The etcd idiom for an ephemeral node: a key under the session's lease; a per-client
      // counter stands in for the sequence number.
      String key = parent + ephemeralPrefix + ephemeralNo.incrementAndGet();
      await(kv.put(bytes(key), ByteSequence.from(value), PutOption.builder().withLeaseId(lease).build()));
      return key;
    }

    @Override
    public void delete(String path) throws Exception {
      await(kv.delete(bytes(path)));
    }

    @Override
    public AutoCloseable watch(String path, Runnable onChange) {
      return client.getWatchClient().watch(bytes(path), WatchOption.DEFAULT, response -> {
        for (WatchEvent e : response.getEvents()) {
          if (e.getEventType() == WatchEvent.EventType.PUT) {
            onChange.run();
          }
        }
      });
    }

    @Override
    public BenchLock lock(String path) {
      ByteSequence name = bytes(path);
      return new BenchLock() {
        private ByteSequence key;

        @Override
        public void acquire() throws Exception {
          key = await(client.getLockClient().lock(name, lease)).getKey();
        }

        @Override
        public void release() throws Exception {
          await(client.getLockClient().unlock(key));
          key = null;
        }
      };
    }

    @Override
    public void close() throws Exception {
      keepAlive.close();
      await(client.getLeaseClient().revoke(lease));
    }
  }
}
