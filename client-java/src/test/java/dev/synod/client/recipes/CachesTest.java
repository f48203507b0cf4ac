package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.NodeExistsException;
import dev.synod.client.NotEmptyException;
import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import dev.synod.server.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NodeCache and TreeCache against real servers: the load/event race, resync and expiry. */
class CachesTest {
  @TempDir Path dir;

  static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  static String text(ChildData d) {
    return new String(d.data(), UTF_8);
  }

  @Test
  void nodeCacheFollowsCreateChangeAndDelete() throws Exception {
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1);
         SynodClient client = server.client(Duration.ofSeconds(5), false);
         NodeCache cache = new NodeCache(client, "/config")) {
      BlockingQueue<CacheEvent> events = new LinkedBlockingQueue<>();
      List<String> threads = new CopyOnWriteArrayList<>();
      cache.addListener(e -> {
        events.add(e);
        threads.add(Thread.currentThread().getName());
      });
      cache.start();
      assertTrue(cache.awaitInitialized(Duration.ofSeconds(5)));
      assertEquals(CacheEvent.Type.INITIALIZED, events.take().type());
      assertTrue(cache.current().isEmpty());

      client.create("/config", bytes("v1"));
      CacheEvent added = events.poll(5, TimeUnit.SECONDS);
      assertEquals(CacheEvent.Type.NODE_ADDED, added.type());
      assertEquals("v1", text(added.data()));
      client.create("/config/child", bytes("")); // not this cache's business
      client.setData("/config", bytes("v2"), -1);
      CacheEvent updated = events.poll(5, TimeUnit.SECONDS);
      assertEquals(CacheEvent.Type.NODE_UPDATED, updated.type());
      assertEquals("v2", text(cache.current().orElseThrow()));
      client.delete("/config/child", -1);
      client.delete("/config", -1);
      assertEquals(CacheEvent.Type.NODE_REMOVED, events.poll(5, TimeUnit.SECONDS).type());
      assertTrue(cache.current().isEmpty());
      assertNull(events.poll(100, TimeUnit.MILLISECONDS), "no other events");
      assertTrue(threads.stream().allMatch(t -> t.startsWith("synod-cache")), "listeners run on the cache thread");
    }
  }

  @Test
  void treeCacheFollowsTheSubtreeAndHonoursMaxDepth() throws Exception {
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1);
         SynodClient client = server.client(Duration.ofSeconds(5), false)) {
      client.create("/t", bytes("root"));
      client.create("/t/a", bytes("a"));
      client.create("/t/a/deep", bytes("deep"));
      try (TreeCache tree = new TreeCache(client, "/t").start();
           TreeCache shallow = new TreeCache(client, "/t", 1).start()) {
        assertTrue(tree.awaitInitialized(Duration.ofSeconds(5)));
        assertTrue(shallow.awaitInitialized(Duration.ofSeconds(5)));
        assertEquals(List.of("/t", "/t/a", "/t/a/deep"), List.copyOf(tree.snapshot().keySet()));
        assertEquals(List.of("/t", "/t/a"), List.copyOf(shallow.snapshot().keySet()));

        client.create("/t/b", bytes("b"));
        client.create("/t/b/x", bytes("x"));
        client.setData("/t/a/deep", bytes("deeper"), -1);
        client.delete("/t/a/deep", -1);
        client.create("/tx", bytes("sibling, not in the subtree"));
        client.sync();
        awaitEqual(client, tree, "/t", Integer.MAX_VALUE);
        awaitEqual(client, shallow, "/t", 1);
        assertEquals(List.of("a", "b"), tree.children("/t"));
        assertEquals(List.of("x"), tree.children("/t/b"));
        assertTrue(tree.get("/tx").isEmpty());
      }
    }
  }

  /**
   * The race that made ZooKeeper's TreeCache notorious: the cache starts while writers create,
   * change and delete nodes throughout the subtree. Whatever interleaving happens, once the writers
   * stop the cache equals the server, and the listener's event stream replays to the same state
   * (no lost, doubled or stale-over-new event: each node's changes arrive with rising mzxid).
   */
  @Test
  void treeCacheStartedUnderConcurrentWritesConvergesExactly() throws Exception {
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1);
         SynodClient writer = server.client(Duration.ofSeconds(5), false);
         SynodClient reader = server.client(Duration.ofSeconds(5), false)) {
      writer.create("/race", bytes("0"));
      Random random = new Random(42);
      for (int i = 0; i < 20; i++) {
        mutate(writer, random);
      }
      AtomicBoolean stop = new AtomicBoolean();
      Thread writing = new Thread(() -> {
        Random r = new Random(7);
        for (int i = 0; i < 400 && !stop.get(); i++) {
          mutate(writer, r);
        }
      });
      List<TreeCache> caches = new ArrayList<>();
      List<Map<String, String>> replayed = new ArrayList<>();
      List<String> violations = new CopyOnWriteArrayList<>();
      writing.start();
      try {
        for (int i = 0; i < 4; i++) { // started at different points of the write stream
          TreeCache cache = new TreeCache(reader, "/race");
          Map<String, String> replay = Collections.synchronizedMap(new TreeMap<>());
          Map<String, Long> lastMzxid = new HashMap<>();
          cache.addListener(e -> {
            String path = e.data() == null ? null : e.data().path();
            if (e.type() == CacheEvent.Type.NODE_ADDED || e.type() == CacheEvent.Type.NODE_UPDATED) {
              long mzxid = e.data().stat().getMzxid();
              Long before = lastMzxid.put(path, mzxid);
              if (before != null && before >= mzxid) {
                violations.add("stale or repeated change of " + path + ": mzxid " + mzxid + " after " + before);
              }
            }
            switch (e.type()) {
              case NODE_ADDED -> {
                if (replay.put(path, text(e.data())) != null) {
                  violations.add("added twice: " + path);
                }
              }
              case NODE_UPDATED -> {
                if (replay.put(path, text(e.data())) == null) {
                  violations.add("update of a node never added: " + path);
                }
              }
              case NODE_REMOVED -> {
                if (replay.remove(path) == null) {
                  violations.add("removal of a node never added: " + path);
                }
              }
              default -> { }
            }
          });
          caches.add(cache.start());
          replayed.add(replay);
          Thread.sleep(30); // caches start staggered during the writes: the scenario, not a wait
        }
        writing.join(30_000);
      } finally {
        stop.set(true);
        writing.join();
      }
      writer.sync();
      for (int i = 0; i < caches.size(); i++) {
        TreeCache cache = caches.get(i);
        assertTrue(cache.awaitInitialized(Duration.ofSeconds(5)));
        awaitEqual(reader, cache, "/race", Integer.MAX_VALUE);
        Map<String, String> expected = new TreeMap<>();
        cache.snapshot().forEach((p, d) -> expected.put(p, text(d)));
        Map<String, String> replay = replayed.get(i);
        Eventually.eventually(Duration.ofSeconds(5), "the listener's events replay to the cache",
            () -> expected.equals(snapshotOf(replay)));
        assertEquals(expected, snapshotOf(replayed.get(i)), "the listener's events replay to the cache");
        cache.close();
      }
      assertEquals(List.of(), violations);
    }
  }

  private static synchronized Map<String, String> snapshotOf(Map<String, String> m) {
    synchronized (m) {
      return new TreeMap<>(m);
    }
  }

  /** One random create, set or delete among /race/n0..n5 and /race/nX/c0..c2. */
  static void mutate(SynodClient c, Random r) {
    String path = "/race/n" + r.nextInt(6) + (r.nextBoolean() ? "/c" + r.nextInt(3) : "");
    try {
      switch (r.nextInt(3)) {
        case 0 -> c.create(path, bytes("v" + r.nextInt(1000)));
        case 1 -> c.setData(path, bytes("v" + r.nextInt(1000)), -1);
        default -> c.delete(path, -1);
      }
    } catch (NoNodeException | NodeExistsException | NotEmptyException expected) {
      // the random walk hit a missing parent, an existing node or a parent with children
    }
  }

  @Test
  void resyncNeededReloadsTheCacheWithAClearEvent() throws Exception {
    // History keeps only 5 changes, so a client away for more than that cannot be replayed to.
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1, "--history-events-max", "5");
         SynodClient writer = server.client(Duration.ofSeconds(5), false);
         SynodClient client = server.client(Duration.ofSeconds(5), false);
         TreeCache tree = new TreeCache(client, "/rs")) {
      writer.create("/rs", bytes(""));
      writer.create("/rs/keep", bytes("1"));
      writer.create("/rs/gone", bytes(""));
      BlockingQueue<CacheEvent> events = new LinkedBlockingQueue<>();
      tree.addListener(events::add);
      tree.start();
      assertTrue(tree.awaitInitialized(Duration.ofSeconds(5)));

      RecipeTestCluster.holdReconnect(client, true);
      RecipeTestCluster.disconnect(client);
      writer.delete("/rs/gone", -1);
      writer.setData("/rs/keep", bytes("2"), -1);
      for (int i = 0; i < 8; i++) {
        writer.create("/rs/new" + i, bytes(""));
      }
      events.clear();
      RecipeTestCluster.holdReconnect(client, false);

      List<CacheEvent> seen = new ArrayList<>();
      CacheEvent e;
      while ((e = events.poll(10, TimeUnit.SECONDS)) != null && e.type() != CacheEvent.Type.RELOADED_AFTER_RESYNC) {
        seen.add(e);
      }
      assertNotNull(e, "a reload with a clear event, after: " + seen);
      assertTrue(seen.stream().anyMatch(x -> x.type() == CacheEvent.Type.NODE_REMOVED && x.data().path().equals("/rs/gone")));
      assertTrue(seen.stream().anyMatch(x -> x.type() == CacheEvent.Type.NODE_UPDATED && x.data().path().equals("/rs/keep")));
      awaitEqual(writer, tree, "/rs", Integer.MAX_VALUE);
      writer.create("/rs/after", bytes(""));
      awaitEqual(writer, tree, "/rs", Integer.MAX_VALUE);
    }
  }

  @Test
  void sessionExpiryIsReportedAndTheCacheReloadsOnTheNewSession() throws Exception {
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1);
         SynodClient writer = server.client(Duration.ofSeconds(5), false);
         SynodClient client = server.client(Duration.ofMillis(800), true);
         TreeCache tree = new TreeCache(client, "/ex");
         NodeCache node = new NodeCache(client, "/ex/a")) {
      writer.create("/ex", bytes(""));
      writer.create("/ex/a", bytes("1"));
      List<CacheEvent.Type> types = new CopyOnWriteArrayList<>();
      tree.addListener(e -> types.add(e.type()));
      List<CacheEvent.Type> nodeTypes = new CopyOnWriteArrayList<>();
      node.addListener(e -> nodeTypes.add(e.type()));
      tree.start();
      node.start();
      assertTrue(tree.awaitInitialized(Duration.ofSeconds(5)));
      assertTrue(node.awaitInitialized(Duration.ofSeconds(5)));

      RecipeTestCluster.partition(client, true);
      writer.setData("/ex/a", bytes("2"), -1);
      writer.create("/ex/b", bytes(""));
      Eventually.eventually(Duration.ofSeconds(10), "types.contains(CacheEvent.Type.SESSION_EXPIRED)", () -> types.contains(CacheEvent.Type.SESSION_EXPIRED));
      assertTrue(types.contains(CacheEvent.Type.SESSION_EXPIRED));
      RecipeTestCluster.partition(client, false);
      Eventually.eventually(Duration.ofSeconds(10), "nodeTypes.contains(CacheEvent.Type.RELOADED_AFTER_EXPIRY)",
          () -> nodeTypes.contains(CacheEvent.Type.RELOADED_AFTER_EXPIRY));
      assertTrue(types.contains(CacheEvent.Type.RELOADED_AFTER_EXPIRY) || waitFor(types, CacheEvent.Type.RELOADED_AFTER_EXPIRY));
      assertTrue(nodeTypes.contains(CacheEvent.Type.RELOADED_AFTER_EXPIRY));
      awaitEqual(writer, tree, "/ex", Integer.MAX_VALUE);
      assertEquals("2", text(node.current().orElseThrow()));
      writer.setData("/ex/a", bytes("3"), -1);
      awaitEqual(writer, tree, "/ex", Integer.MAX_VALUE);
    }
  }

  static boolean waitFor(List<CacheEvent.Type> types, CacheEvent.Type type) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(10), "types.contains(type)", () -> types.contains(type));
    return types.contains(type);
  }

  /** Waits until the cache holds exactly what the server holds under {@code root}. */
  static void awaitEqual(SynodClient client, TreeCache cache, String root, int maxDepth) throws InterruptedException {
    Eventually.eventually(Duration.ofSeconds(10), () -> {
      Map<String, String> server = read(client, root, 0, maxDepth);
      Map<String, String> cached = new TreeMap<>();
      for (Map.Entry<String, ChildData> e : cache.snapshot().entrySet()) {
        cached.put(e.getKey(), text(e.getValue()));
      }
      assertEquals(server, cached, "cache of " + root);
    });
  }

  static Map<String, String> read(SynodClient client, String path, int depth, int maxDepth) {
    Map<String, String> out = new TreeMap<>();
    try {
      NodeData d = client.getData(path);
      out.put(path, new String(d.data(), UTF_8));
      if (depth < maxDepth) {
        for (String child : client.getChildren(path)) {
          out.putAll(read(client, path + "/" + child, depth + 1, maxDepth));
        }
      }
    } catch (NoNodeException gone) {
      // deleted meanwhile
    }
    return out;
  }
}
