package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-server cluster: the server the recipes' client is connected to is stopped mid-work. The
 * cache stays current, queue items are neither lost nor doubled, the counter misses no increment,
 * and the registered instance stays registered (same session).
 */
class RecipesFailoverTest {
  @TempDir Path dir;

  @Test
  void recipesKeepWorkingWhenTheConnectedServerStops() throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try (RecipeTestCluster cluster = new RecipeTestCluster(dir, 3)) {
      cluster.awaitLeader();
      try (SynodClient writer = cluster.client(Duration.ofSeconds(3), false);
           SynodClient client = cluster.client(Duration.ofSeconds(3), false);
           TreeCache tree = new TreeCache(client, "/fo/tree").start();
           SharedCounter counter = new SharedCounter(client, "/fo/counter", 0).start()) {
        writer.create("/fo/tree", new byte[0]);
        assertTrue(tree.awaitInitialized(Duration.ofSeconds(10)));
        ServiceRegistry registry = new ServiceRegistry(client, "/fo/services");
        registry.register(new ServiceInstance("api", "me", "127.0.0.1:1"));
        long session = client.sessionId();

        DistributedQueue producer = new DistributedQueue(writer, "/fo/queue");
        DistributedQueue consumer = new DistributedQueue(client, "/fo/queue");
        int items = 40;
        Future<List<String>> consuming = pool.submit(() -> {
          List<String> got = new ArrayList<>();
          while (got.size() < items) {
            byte[] item = consumer.poll(Duration.ofSeconds(10));
            if (item == null) {
              break;
            }
            got.add(new String(item, UTF_8));
          }
          return got;
        });
        Future<?> counting = pool.submit(() -> {
          for (int i = 0; i < 30; i++) {
            counter.increment();
          }
          return null;
        });
        for (int i = 0; i < items; i++) {
          producer.offer(("item-" + i).getBytes(UTF_8));
          writer.create("/fo/tree/n" + i, ("v" + i).getBytes(UTF_8));
          if (i == items / 2) {
            int stopped = cluster.stopServerOf(client);
            System.out.println("stopped server " + stopped + " under the recipes' client");
          }
        }
        List<String> got = consuming.get(30, TimeUnit.SECONDS);
        counting.get(30, TimeUnit.SECONDS);

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < items; i++) {
          expected.add("item-" + i);
        }
        assertEquals(expected, got, "every item once, in order");
        // The consumer's deletes went through another member; reads are sequentially consistent
        // per session (as in ZooKeeper), so the writer syncs before it looks.
        writer.sync();
        assertEquals(0, producer.size());
        client.sync();
        assertEquals(30, counter.get());
        assertEquals(session, client.sessionId(), "same session after the failover");
        assertEquals(List.of(new ServiceInstance("api", "me", "127.0.0.1:1")),
            new ServiceDiscovery(writer, "/fo/services").instances("api"));

        writer.setData("/fo/tree/n0", "changed".getBytes(UTF_8), -1);
        CachesTest.awaitEqual(writer, tree, "/fo/tree", Integer.MAX_VALUE);
        assertEquals(items + 1, tree.snapshot().size());
        assertEquals(Map.entry("/fo/tree/n0", "changed"),
            Map.entry("/fo/tree/n0", new String(tree.get("/fo/tree/n0").orElseThrow().data(), UTF_8)));
        registry.close();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
