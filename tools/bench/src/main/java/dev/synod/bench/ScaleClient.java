package dev.synod.bench;

import dev.synod.client.SynodClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * The client side of tools/bench/scale.sh, against one server of either system:
 *
 * <pre>
 * load:       ScaleClient load SYSTEM HOST:PORT PARENTS CHILDREN VALUE_BYTES CLIENTS
 * first-read: ScaleClient first-read SYSTEM HOST:PORT PATH DEADLINE_S
 * </pre>
 *
 * {@code load} creates /pN (N < PARENTS) and PARENTS x CHILDREN nodes /pN/cM of VALUE_BYTES each
 * through the system's standard client, CLIENTS sessions at once (each waits for its create's
 * answer: a closed loop), and prints one line: nodes, seconds, nodes/s. {@code first-read}
 * prints "ready" once it has loaded its classes, then waits for a line on stdin (the script
 * starts the server then), then tries, every 10 ms until the deadline, to open a fresh session
 * and read PATH; it prints the wall-clock time (epoch ms) of the first read that succeeds. A
 * fresh session per attempt: a client's own reconnection backoff (up to 1 s in ZooKeeper's)
 * would otherwise be measured instead of the server.
 */
public final class ScaleClient {
  private ScaleClient() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: load|first-read ... (see the class comment)");
    }
    SystemKind system = SystemKind.valueOf(args[1].toUpperCase(Locale.ROOT));
    String target = args[2];
    switch (args[0]) {
      case "load" -> load(system, target, Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          Integer.parseInt(args[5]), Integer.parseInt(args[6]));
      case "first-read" -> firstRead(system, target, args[3], Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
    System.exit(0); // client libraries may leave non-daemon threads behind
  }

  private static void load(SystemKind system, String target, int parents, int children,
      int valueBytes, int clients) throws Exception {
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 'v');
    Driver driver = Driver.create(system, List.of(target));
    List<Session> sessions = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      sessions.add(driver.open(i));
    }
    long start = System.nanoTime();
    AtomicLong created = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    // Parents first (all of them), then every client takes every clients-th child of each.
    runAll(pool, sessions, (client, session) -> {
      for (int p = client; p < parents; p += clients) {
        session.createIfAbsent(parentPath(p), new byte[0]);
        created.incrementAndGet();
      }
    });
    runAll(pool, sessions, (client, session) -> {
      long nodes = (long) parents * children;
      for (long n = client; n < nodes; n += clients) {
        session.createIfAbsent(childPath((int) (n / children), (int) (n % children)), value);
        long done = created.incrementAndGet();
        if (done % 100_000 == 0) {
          System.err.printf(Locale.ROOT, "  %d nodes, %.0f s%n", done, seconds(start));
        }
      }
    });
    double s = seconds(start);
    pool.shutdown();
    for (Session session : sessions) {
      session.close();
    }
    driver.close();
    System.out.printf(Locale.ROOT, "%d %.2f %.0f%n", created.get(), s, created.get() / s);
  }

  static String parentPath(int p) {
    return String.format(Locale.ROOT, "/p%04d", p);
  }

  static String childPath(int p, int c) {
    return String.format(Locale.ROOT, "/p%04d/c%04d", p, c);
  }

  private interface ClientWork {
    void run(int client, Session session) throws Exception;
  }

  private static void runAll(ExecutorService pool, List<Session> sessions, ClientWork work)
      throws Exception {
    List<Future<?>> done = new ArrayList<>();
    for (int i = 0; i < sessions.size(); i++) {
      int client = i;
      done.add(pool.submit(() -> {
        work.run(client, sessions.get(client));
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get();
    }
  }

  private static void firstRead(SystemKind system, String target, String path, int deadlineS)
      throws Exception {
    // Load the client's classes before the clock starts: a restarted server is what is timed.
    try {
      readOnce(system, "127.0.0.1:1", path, 50);
    } catch (Exception expected) {
      // nothing listens there
    }
    if (system == SystemKind.SYNOD) {
      // A gRPC health server of our own, so the first real check finds the channel's classes
      // loaded, as the ZooKeeper client's are.
      io.grpc.Server local = io.grpc.ServerBuilder.forPort(0)
          .addService(new io.grpc.protobuf.services.HealthStatusManager().getHealthService())
          .build().start();
      serving(system, "127.0.0.1", local.getPort());
      local.shutdownNow();
    }
    System.out.println("ready");
    System.out.flush();
    if (System.in.read() < 0) {
      throw new IOException("stdin closed before the server was started");
    }
    long startMs = System.currentTimeMillis();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(deadlineS);
    long portMs = -1;
    long servingMs = -1;
    String[] hostPort = target.split(":");
    Exception last = null;
    while (System.nanoTime() < deadline) {
      boolean open = portOpen(hostPort[0], Integer.parseInt(hostPort[1]));
      if (open && portMs < 0) {
        portMs = System.currentTimeMillis();
      }
      if (open && serving(system, hostPort[0], Integer.parseInt(hostPort[1]))) {
        if (servingMs < 0) {
          servingMs = System.currentTimeMillis();
        }
        try {
          readOnce(system, target, path, 5_000);
          long readMs = System.currentTimeMillis();
          // On stderr, for a look at where the time went: port bound, serving, first read.
          System.err.printf(Locale.ROOT, "port open +%d ms, serving +%d ms, read +%d ms%n",
              portMs - startMs, servingMs - startMs, readMs - startMs);
          System.out.println(readMs);
          return;
        } catch (Exception e) {
          last = e;
        }
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("no read of " + path + " within " + deadlineS + " s", last);
  }

  private static boolean portOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 100);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Whether the server says it serves: Synod's gRPC health check (SERVING once it has a leader),
   * ZooKeeper's "srvr". A session tried earlier would fail, and the client's own retry backoff
   * would then be measured instead of the server.
   */
  private static boolean serving(SystemKind system, String host, int port) {
    if (system == SystemKind.ZOOKEEPER) {
      return zooKeeperServing(host, port);
    }
    io.grpc.ManagedChannel channel =
        io.grpc.ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
    try {
      return io.grpc.health.v1.HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(500, TimeUnit.MILLISECONDS)
          .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus()
          == io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
    } catch (io.grpc.StatusRuntimeException e) {
      return false;
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * Whether ZooKeeper answers its "srvr" command with a mode: it binds its port before it has
   * loaded its data, and a session tried before then is closed, after which ZooKeeper's client
   * waits up to a second (and its close() up to a session timeout) before trying again.
   */
  private static boolean zooKeeperServing(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 100);
      s.setSoTimeout(1_000);
      s.getOutputStream().write("srvr".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
          .contains("Mode:");
    } catch (IOException e) {
      return false;
    }
  }

  /** One fresh session that reads {@code path}; throws if it cannot within {@code waitMs}. */
  private static void readOnce(SystemKind system, String target, String path, long waitMs)
      throws Exception {
    if (system == SystemKind.SYNOD) {
      try (SynodClient c = SynodClient.builder().connectString(target)
          .sessionTimeout(Duration.ofSeconds(30)).build().start()) {
        if (!c.blockUntilConnected(Duration.ofMillis(waitMs))) {
          throw new IllegalStateException("no session within " + waitMs + " ms");
        }
        c.getData(path);
      }
      return;
    }
    CountDownLatch answered = new CountDownLatch(1);
    boolean[] connected = {false};
    ZooKeeper zk = new ZooKeeper(target, 30_000, event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected[0] = true;
        answered.countDown();
      } else if (event.getState() == Watcher.Event.KeeperState.Disconnected
          || event.getState() == Watcher.Event.KeeperState.Expired) {
        answered.countDown(); // the server closed the connection (not serving yet)
      }
    });
    try {
      if (!answered.await(waitMs, TimeUnit.MILLISECONDS) || !connected[0]) {
        throw new IllegalStateException("no session within " + waitMs + " ms");
      }
      zk.getData(path, false, null);
    } finally {
      zk.close();
    }
  }

  private static double seconds(long startNs) {
    return (System.nanoTime() - startNs) / 1e9;
  }
}
