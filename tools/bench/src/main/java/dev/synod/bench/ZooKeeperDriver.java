package dev.synod.bench;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Apache ZooKeeper through its standard client: one {@link ZooKeeper} handle (one session) per
 * client, connected to a single server. Reads are ZooKeeper's default: served by that server,
 * sequentially consistent. Locks are Curator's {@link InterProcessMutex}, over a Curator client
 * of their own (Curator manages its own session), opened the first time a client asks for a lock.
 */
final class ZooKeeperDriver implements Driver {
  private static final int SESSION_TIMEOUT_MS = 30_000;
  private static final long CONNECT_WAIT_S = 60;

  private final List<String> targets;

  ZooKeeperDriver(List<String> targets) {
    this.targets = List.copyOf(targets);
  }

  @Override
  public Session open(int client) throws Exception {
    String target = targets.get(client % targets.size());
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(target, SESSION_TIMEOUT_MS, event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    });
    if (!connected.await(CONNECT_WAIT_S, TimeUnit.SECONDS)) {
      zk.close();
      throw new IllegalStateException("no ZooKeeper session with " + target + " within "
          + CONNECT_WAIT_S + " s");
    }
    return new ZkSession(zk, target);
  }

  @Override
  public void close() {}

  private static final class ZkSession implements Session {
    private final ZooKeeper zk;
    private final String target;
    private CuratorFramework curator;

    ZkSession(ZooKeeper zk, String target) {
      this.zk = zk;
      this.target = target;
    }

    @Override
    public void createIfAbsent(String path, byte[] value) throws Exception {
      try {
        zk.create(path, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException e) {
        // already there from an earlier run: fine
      }
    }

    @Override
    public void put(String path, byte[] value) throws Exception {
      zk.setData(path, value, -1);
    }

    @Override
    public byte[] get(String path) throws Exception {
      return zk.getData(path, false, null);
    }

    @Override
    public byte[] getLinearizable(String path) throws Exception {
      java.util.concurrent.CompletableFuture<Integer> synced = new java.util.concurrent.CompletableFuture<>();
      zk.sync(path, (rc, p, ctx) -> synced.complete(rc), null);
      int rc = synced.get();
      if (rc != KeeperException.Code.OK.intValue()) {
        throw KeeperException.create(KeeperException.Code.get(rc), path);
      }
      return zk.getData(path, false, null);
    }

    @Override
    public String createEphemeralSequential(String parent, byte[] value) throws Exception {
      return zk.create(parent + "/e-", value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
    }

    @Override
    public void delete(String path) throws Exception {
      zk.delete(path, -1);
    }

    @Override
    public AutoCloseable watch(String path, Runnable onChange) throws Exception {
      Watcher w = event -> {
        if (event.getType() == Watcher.Event.EventType.NodeDataChanged) {
          onChange.run();
        }
      };
      zk.addWatch(path, w, AddWatchMode.PERSISTENT);
      return () -> zk.removeWatches(path, w, Watcher.WatcherType.Any, true);
    }

    @Override
    public synchronized BenchLock lock(String path) throws Exception {
      if (curator == null) {
        curator = CuratorFrameworkFactory.newClient(target, SESSION_TIMEOUT_MS, SESSION_TIMEOUT_MS,
            new RetryNTimes(3, 100));
        curator.start();
        if (!curator.blockUntilConnected((int) CONNECT_WAIT_S, TimeUnit.SECONDS)) {
          throw new IllegalStateException("Curator did not connect to " + target);
        }
      }
      InterProcessMutex mutex = new InterProcessMutex(curator, path);
      return new BenchLock() {
        @Override
        public void acquire() throws Exception {
          mutex.acquire();
        }

        @Override
        public void release() throws Exception {
          mutex.release();
        }
      };
    }

    @Override
    public void close() throws InterruptedException {
      if (curator != null) {
        curator.close();
      }
      zk.close();
    }
  }
}
