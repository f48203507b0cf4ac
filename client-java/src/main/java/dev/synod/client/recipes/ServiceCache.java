package dev.synod.client.recipes;

import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The live set of one service's instances, kept by a {@link TreeCache} of depth 1 on the
 * service's node (one recursive watch). Listeners are told the whole new set after every change
 * (and after a reload), on the cache's thread. Get one from {@link ServiceDiscovery#cache}.
 */
public final class ServiceCache implements AutoCloseable {
  /** Told the full set of instances after each change. */
  @FunctionalInterface
  public interface Listener {
    void instancesChanged(List<ServiceInstance> instances);
  }

  private final TreeCache tree;
  private final String servicePath;
  private final String service;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean initialized;

  ServiceCache(SynodClient client, String servicePath, String service) {
    this.tree = new TreeCache(client, servicePath, 1);
    this.servicePath = servicePath;
    this.service = service;
    tree.addListener(this::onEvent);
  }

  ServiceCache start() {
    tree.start();
    return this;
  }

  /** Waits for the first load; false on timeout. */
  public boolean awaitInitialized(Duration timeout) throws InterruptedException {
    return tree.awaitInitialized(timeout);
  }

  /** The instances as last seen, ordered by id. */
  public List<ServiceInstance> instances() {
    List<ServiceInstance> out = new ArrayList<>();
    for (Map.Entry<String, ChildData> e : tree.snapshot().entrySet()) {
      if (e.getKey().equals(servicePath)) {
        continue;
      }
      ServiceInstance i = ServiceDiscovery.decodeOrNull(service, RecipeNodes.nameOf(e.getKey()), e.getValue().data());
      if (i != null) {
        out.add(i);
      }
    }
    return out;
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  public String service() {
    return service;
  }

  private void onEvent(CacheEvent e) {
    if (e.type() == CacheEvent.Type.INITIALIZED) {
      initialized = true;
    }
    if (!initialized || e.type() == CacheEvent.Type.SESSION_EXPIRED
        || (e.data() != null && e.data().path().equals(servicePath))) {
      return;
    }
    List<ServiceInstance> now = instances();
    listeners.forEach(l -> l.instancesChanged(now));
  }

  @Override
  public void close() {
    tree.close();
  }
}
