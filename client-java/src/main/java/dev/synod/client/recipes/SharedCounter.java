package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.synod.api.v1.Acl;
import dev.synod.client.BadVersionException;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.NodeExistsException;
import dev.synod.client.SynodClient;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A counter (a {@code long}) shared through one node, stored as decimal text (so grpcurl and the
 * CLI read it as is). Writes are compare-and-set on the node's version: {@link #trySet} fails if
 * someone else wrote first, {@link #add} retries until its increment lands (so concurrent adds
 * are never lost). {@link #start()} creates the node with the initial value if it is missing and
 * starts a {@link NodeCache} that drives the listeners.
 */
public final class SharedCounter implements AutoCloseable {
  /** A value with the node version it was read at, for {@link #trySet}. */
  public record VersionedValue(long value, int version) {}

  /** Told of every new value of the counter, on the counter's cache thread. */
  @FunctionalInterface
  public interface Listener {
    void countChanged(long newValue);
  }

  private final SynodClient client;
  private final String path;
  private final long initialValue;
  private final List<Acl> acl;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private NodeCache cache;

  public SharedCounter(SynodClient client, String path, long initialValue) {
    this(client, path, initialValue, List.of());
  }

  /**
   * A counter whose node (and any missing ancestor, when this creates them) gets {@code acl}
   * (empty: the server's default ACL). Readers need READ on the node, writers READ and WRITE.
   */
  public SharedCounter(SynodClient client, String path, long initialValue, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
    this.path = RecipeNodes.requirePath(path, "path");
    this.initialValue = initialValue;
    this.acl = RecipeNodes.requireAcl(acl);
  }

  /** Creates the node if missing (with the initial value) and starts following changes. */
  public synchronized SharedCounter start() {
    if (cache != null) {
      throw new IllegalStateException("already started");
    }
    createIfMissing();
    cache = new NodeCache(client, path);
    cache.addListener(e -> {
      if ((e.type() == CacheEvent.Type.NODE_ADDED || e.type() == CacheEvent.Type.NODE_UPDATED) && !listeners.isEmpty()) {
        long v = decode(e.data().data());
        listeners.forEach(l -> l.countChanged(v));
      }
    });
    cache.start();
    return this;
  }

  private void createIfMissing() {
    if (client.exists(path) == null) {
      RecipeNodes.ensurePath(client, RecipeNodes.parentOf(path), acl);
      try {
        client.create(path, encode(initialValue), CreateOptions.PERSISTENT.withAcl(acl));
      } catch (NodeExistsException raced) {
        // another process created it first: its value stands
      }
    }
  }

  /** The current value, read from the server. */
  public long get() {
    return getVersioned().value();
  }

  /** The current value and the version to pass to {@link #trySet}. */
  public VersionedValue getVersioned() {
    NodeData d;
    try {
      d = client.getData(path);
    } catch (NoNodeException missing) {
      createIfMissing();
      d = client.getData(path);
    }
    return new VersionedValue(decode(d.data()), d.stat().getVersion());
  }

  /** Sets the value if nobody changed it since {@code previous} was read; false otherwise. */
  public boolean trySet(VersionedValue previous, long newValue) {
    try {
      client.setData(path, encode(newValue), previous.version());
      return true;
    } catch (BadVersionException raced) {
      return false;
    }
  }

  /** Sets the value unconditionally. */
  public void set(long newValue) {
    client.setData(path, encode(newValue), -1);
  }

  /** Adds {@code delta} (compare-and-set, retried until it lands); returns the new value. */
  public long add(long delta) {
    for (int attempt = 1; ; attempt++) {
      VersionedValue now = getVersioned();
      long next = Math.addExact(now.value(), delta);
      if (trySet(now, next)) {
        return next;
      }
      backOff(attempt);
    }
  }

  public long increment() {
    return add(1);
  }

  public long decrement() {
    return add(-1);
  }

  /** Lets contenders spread out (up to ~1 ms x attempt, capped) after a lost compare-and-set. */
  private void backOff(int attempt) {
    if (attempt < 3) {
      return;
    }
    long micros = ThreadLocalRandom.current().nextLong(Math.min(attempt, 50) * 1000L);
    try {
      Thread.sleep(micros / 1000, (int) (micros % 1000) * 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while adding to counter " + path, e);
    }
  }

  /** Listeners need {@link #start()}. */
  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  public String path() {
    return path;
  }

  @Override
  public synchronized void close() {
    if (cache != null) {
      cache.close();
      cache = null;
    }
  }

  static byte[] encode(long value) {
    return Long.toString(value).getBytes(UTF_8);
  }

  private long decode(byte[] data) {
    String text = new String(data, UTF_8).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalStateException("node " + path + " does not hold a counter (decimal long): '"
          + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'", e);
    }
  }
}
