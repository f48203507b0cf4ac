package dev.synod.client.recipes;

import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.SynodClient;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Finds the instances that {@link ServiceRegistry} registered under a base path: one-off queries,
 * or a live {@link ServiceCache} per service.
 */
public final class ServiceDiscovery {
  private static final Logger LOG = Logger.getLogger(ServiceDiscovery.class.getName());

  private final SynodClient client;
  private final String basePath;

  public ServiceDiscovery(SynodClient client, String basePath) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
    this.basePath = RecipeNodes.requirePath(basePath, "basePath");
  }

  /** The names of the services that have (or had) instances. */
  public List<String> serviceNames() {
    try {
      return client.getChildren(basePath);
    } catch (NoNodeException none) {
      return List.of();
    }
  }

  /** The instances of {@code service} now (read from the server; nodes that are not instances are skipped). */
  public List<ServiceInstance> instances(String service) {
    String servicePath = servicePath(service);
    List<String> ids;
    try {
      ids = client.getChildren(servicePath);
    } catch (NoNodeException none) {
      return List.of();
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (String id : ids) {
      try {
        NodeData d = client.getData(RecipeNodes.join(servicePath, id));
        ServiceInstance i = decodeOrNull(service, id, d.data());
        if (i != null) {
          out.add(i);
        }
      } catch (NoNodeException gone) {
        // unregistered meanwhile
      }
    }
    return out;
  }

  /** A started live view of {@code service}'s instances; close it when done. */
  public ServiceCache cache(String service) {
    return new ServiceCache(client, servicePath(service), service).start();
  }

  String servicePath(String service) {
    return RecipeNodes.join(basePath, RecipeNodes.requireName(service, "service"));
  }

  static ServiceInstance decodeOrNull(String service, String id, byte[] data) {
    try {
      return ServiceInstance.decode(service, id, data);
    } catch (IllegalArgumentException foreign) {
      LOG.fine(() -> "skipping " + service + "/" + id + ": " + foreign.getMessage());
      return null;
    }
  }
}
