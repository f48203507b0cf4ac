package dev.synod.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import dev.synod.client.RecipeTestCluster;
import dev.synod.client.SynodClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration, live discovery and re-registration after a session expiry. */
class ServiceDiscoveryTest {
  @TempDir Path dir;

  @Test
  void instancesComeAndGoAndAreReRegisteredWithTheirLatestValueAfterExpiry() throws Exception {
    try (RecipeTestCluster server = new RecipeTestCluster(dir, 1);
         SynodClient observer = server.client(Duration.ofSeconds(5), false);
         SynodClient apiHost = server.client(Duration.ofMillis(800), true);
         SynodClient otherHost = server.client(Duration.ofSeconds(5), false)) {
      ServiceDiscovery discovery = new ServiceDiscovery(observer, "/services");
      try (ServiceCache cache = discovery.cache("api")) {
        BlockingQueue<List<ServiceInstance>> changes = new LinkedBlockingQueue<>();
        cache.addListener(changes::add);
        assertTrue(cache.awaitInitialized(Duration.ofSeconds(5)));
        assertEquals(List.of(), cache.instances());

        ServiceRegistry registry = new ServiceRegistry(apiHost, "/services");
        ServiceInstance one = new ServiceInstance("api", "one", "10.0.0.1:80", Map.of("zone", "eu", "w=eird", "a&b"));
        registry.register(one);
        ServiceRegistry otherRegistry = new ServiceRegistry(otherHost, "/services");
        ServiceInstance two = new ServiceInstance("api", "two", "10.0.0.2:80");
        otherRegistry.register(two);
        assertEquals(List.of(one, two), awaitChange(changes, l -> l.size() == 2));
        assertEquals(List.of(one, two), discovery.instances("api"));
        assertEquals(List.of("api"), discovery.serviceNames());

        // The id is taken by another live session.
        ServiceRegistry intruder = new ServiceRegistry(otherHost, "/services");
        assertThrows(IllegalStateException.class, () -> intruder.register(new ServiceInstance("api", "one", "x")));

        // An update is seen, and remembered for re-registration.
        ServiceInstance oneV2 = one.withMetadata(Map.of("zone", "us"));
        registry.update(oneV2);
        assertEquals(List.of(oneV2, two), awaitChange(changes, l -> l.contains(oneV2)));

        // The host's session expires: its instance goes, then comes back on the new session.
        RecipeTestCluster.expireSession(apiHost);
        assertEquals(List.of(two), awaitChange(changes, l -> l.equals(List.of(two))));
        assertEquals(List.of(oneV2, two), awaitChange(changes, l -> l.size() == 2));
        assertEquals(apiHost.sessionId(), observer.exists("/services/api/one").getEphemeralOwner());

        // Unregister and close remove instances for good.
        assertTrue(otherRegistry.unregister("api", "two"));
        assertFalse(otherRegistry.unregister("api", "two"));
        assertEquals(List.of(oneV2), awaitChange(changes, l -> l.size() == 1));
        registry.close();
        assertEquals(List.of(), awaitChange(changes, List::isEmpty));
        assertEquals(List.of(), discovery.instances("api"));
      }
      assertThrows(IllegalArgumentException.class, () -> new ServiceInstance("a/b", "id", ""));
      assertThrows(IllegalArgumentException.class, () -> new ServiceInstance("api", "", ""));
    }
  }

  static List<ServiceInstance> awaitChange(BlockingQueue<List<ServiceInstance>> changes,
      Predicate<List<ServiceInstance>> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<ServiceInstance> last = null;
    while (System.nanoTime() < deadline) {
      List<ServiceInstance> next = changes.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (next == null) {
        break;
      }
      last = next;
      if (wanted.test(next)) {
        return next;
      }
    }
    fail("no matching change; last: " + last);
    return null;
  }
}
