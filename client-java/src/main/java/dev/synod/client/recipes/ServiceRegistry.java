package dev.synod.client.recipes;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Stat;
import dev.synod.client.ConnectionState;
import dev.synod.client.ConnectionStateListener;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import dev.synod.client.SynodException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Registers service instances (group membership): each instance is an ephemeral node
 * {@code <base>/<service>/<id>} holding the instance's {@link ServiceInstance#encode() encoding},
 * so it disappears when this process's session ends. {@link ServiceDiscovery} reads them.
 *
 * <p>After a session expiry, once the client has a new session (with the builder's
 * {@code reconnectAfterExpiry}, or after {@code restartSession()}), every instance still
 * registered here is registered again, in the background, with its <em>latest</em> value
 * (updates are remembered, which Curator once got wrong), retrying until it lands. An
 * instance's node left over from this registry's previous session is replaced; one owned by
 * another live session is not touched (that id is taken). Unregistering forgets the instance
 * before deleting it, so a concurrent re-registration cannot bring it back.
 */
public final class ServiceRegistry implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ServiceRegistry.class.getName());
  private static final long RETRY_MS = 200;

  private final SynodClient client;
  private final String basePath;
  private final CreateOptions instanceOptions;
  private final List<Acl> acl;
  /** key "service/id" to the instance as it should be on the server. */
  private final Map<String, ServiceInstance> instances = new LinkedHashMap<>();
  /** key to the session that created its node. */
  private final Map<String, Long> ownerSessions = new LinkedHashMap<>();
  private final ScheduledExecutorService worker;
  private final ConnectionStateListener stateListener;
  private volatile boolean closed;

  public ServiceRegistry(SynodClient client, String basePath) {
    this(client, basePath, List.of());
  }

  /**
   * A registry whose nodes (the base and service nodes, when this creates them, and every
   * instance's node) get {@code acl} (empty: the server's default ACL). Registering needs CREATE
   * and DELETE on the service node and READ and WRITE on the instance's; a {@link ServiceDiscovery}
   * needs READ on all of them.
   */
  public ServiceRegistry(SynodClient client, String basePath, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
    this.basePath = RecipeNodes.requirePath(basePath, "basePath");
    this.acl = RecipeNodes.requireAcl(acl);
    this.instanceOptions = CreateOptions.of(NodeKind.EPHEMERAL).withAcl(this.acl);
    this.worker = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "synod-registry " + basePath);
      t.setDaemon(true);
      return t;
    });
    this.stateListener = (c, state) -> {
      if (state == ConnectionState.CONNECTED) {
        worker.execute(this::reRegisterAll); // a new session: our ephemerals are gone
      }
    };
    client.addConnectionStateListener(stateListener);
  }

  /**
   * Registers {@code instance} (creating the service's parent nodes if needed). Registering the
   * same id again updates it.
   *
   * @throws IllegalStateException if another live session holds that service's id
   */
  public synchronized void register(ServiceInstance instance) {
    requireOpen();
    String key = key(instance);
    instances.put(key, instance);
    try {
      write(key, instance);
    } catch (IllegalStateException taken) {
      instances.remove(key);
      throw taken;
    }
  }

  /** Replaces a registered instance's address/metadata (remembered for re-registration). */
  public synchronized void update(ServiceInstance instance) {
    requireOpen();
    String key = key(instance);
    if (!instances.containsKey(key)) {
      throw new IllegalArgumentException("instance " + key + " is not registered here");
    }
    instances.put(key, instance);
    write(key, instance);
  }

  /** Unregisters (deletes) an instance registered here; false if it was not. */
  public synchronized boolean unregister(String service, String id) {
    String key = service + "/" + id;
    if (instances.remove(key) == null) {
      return false;
    }
    ownerSessions.remove(key);
    try {
      client.delete(path(service, id), -1);
    } catch (NoNodeException gone) {
      // already gone (e.g. with an expired session)
    }
    return true;
  }

  /** The instances registered here. */
  public synchronized List<ServiceInstance> registered() {
    return new ArrayList<>(instances.values());
  }

  /** Unregisters everything registered here and stops following the session. */
  @Override
  public void close() {
    client.removeConnectionStateListener(stateListener);
    List<ServiceInstance> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(instances.values());
    }
    for (ServiceInstance i : all) {
      try {
        synchronized (this) {
          instances.remove(key(i));
          client.delete(path(i.service(), i.id()), -1);
        }
      } catch (SynodException e) {
        LOG.log(Level.FINE, "unregister on close: " + key(i), e); // ephemeral: goes with the session
      }
    }
    worker.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------

  /** Creates or updates the node of {@code key}; caller holds the lock. */
  private void write(String key, ServiceInstance instance) {
    String path = path(instance.service(), instance.id());
    long session = client.sessionId();
    try {
      RecipeNodes.ensurePath(client, RecipeNodes.parentOf(path), acl);
      client.create(path, instance.encode(), instanceOptions);
      ownerSessions.put(key, session);
      return;
    } catch (NodeExistsException exists) {
      // ours (a retried create, a concurrent re-registration) or left over by an old session
    }
    Stat stat = client.exists(path);
    if (stat == null) {
      write(key, instance); // gone meanwhile
      return;
    }
    if (stat.getEphemeralOwner() == session) {
      client.setData(path, instance.encode(), -1);
      ownerSessions.put(key, session);
      return;
    }
    Long previous = ownerSessions.get(key);
    if (previous != null && previous == stat.getEphemeralOwner()) {
      // Our own node from the session that expired, not deleted yet: replace it.
      try {
        client.delete(path, stat.getVersion());
      } catch (NoNodeException gone) {
        // the server removed it meanwhile
      }
      write(key, instance);
      return;
    }
    throw new IllegalStateException("instance " + key + " is already registered by session "
        + Long.toUnsignedString(stat.getEphemeralOwner()));
  }

  private void reRegisterAll() {
    List<String> keys;
    synchronized (this) {
      if (closed) {
        return;
      }
      keys = new ArrayList<>(instances.keySet());
    }
    for (String key : keys) {
      try {
        synchronized (this) {
          ServiceInstance latest = instances.get(key);
          if (latest != null && !closed) {
            write(key, latest);
          }
        }
      } catch (IllegalStateException taken) {
        LOG.warning(() -> "cannot re-register " + key + ": " + taken.getMessage());
      } catch (SynodException e) {
        if (client.state() != ConnectionState.EXPIRED && client.state() != ConnectionState.CLOSED) {
          worker.schedule(this::reRegisterAll,
              RecipeNodes.retryDelayMs(LOG, "re-register " + key, e, RETRY_MS), TimeUnit.MILLISECONDS);
        } // on EXPIRED: the next CONNECTED runs this again
        return;
      }
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("registry is closed");
    }
  }

  private String path(String service, String id) {
    return RecipeNodes.join(RecipeNodes.join(basePath, service), id);
  }

  private static String key(ServiceInstance i) {
    return i.service() + "/" + i.id();
  }
}
