package dev.synod.client.recipes;

import dev.synod.api.v1.Acl;
import dev.synod.client.CreateOptions;
import dev.synod.client.NoNodeException;
import dev.synod.client.NodeData;
import dev.synod.client.SynodClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A FIFO queue of byte arrays shared by any number of producers and consumers. Each item is a
 * persistent sequential node {@code <path>/item-NNNNNNNNNN}, so the order is the order in which the
 * creates were applied; a consumer takes an item by deleting it, and only the consumer whose delete
 * succeeds gets it, so every item goes to exactly one consumer.
 *
 * <p>A consumer that finds the queue empty sets one children-watch and sleeps until it fires (or
 * the session changes); no polling. An offer or take whose reply is lost in a failover is re-sent
 * with the same request number and applied once, so items are neither doubled nor lost. If the
 * session <em>expires</em> while a take's delete is in flight, the outcome is unknown: the call
 * throws and the item may be gone (at-most-once), which is the price of not holding items with a
 * lock that could itself be lost.
 */
public final class DistributedQueue {
  static final String PREFIX = "item-";

  private final SynodClient client;
  private final String path;
  private final CreateOptions itemOptions;
  private final List<Acl> acl;
  private volatile boolean parentMade;

  public DistributedQueue(SynodClient client, String queuePath) {
    this(client, queuePath, List.of());
  }

  /**
   * A queue whose node (and any missing ancestor, when this creates them) and items get {@code acl}
   * (empty: the server's default ACL). Producers need CREATE on the queue node; consumers READ on
   * it and on the items, and DELETE on the queue node.
   */
  public DistributedQueue(SynodClient client, String queuePath, List<Acl> acl) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
    this.path = RecipeNodes.requirePath(queuePath, "queuePath");
    this.acl = RecipeNodes.requireAcl(acl);
    this.itemOptions = CreateOptions.PERSISTENT.sequential().withAcl(this.acl);
  }

  /** Appends an item; returns the node that holds it. */
  public String offer(byte[] item) {
    if (item == null) {
      throw new IllegalArgumentException("item must not be null");
    }
    if (!parentMade) {
      RecipeNodes.ensurePath(client, path, acl);
      parentMade = true;
    }
    try {
      return client.create(RecipeNodes.join(path, PREFIX), item, itemOptions).path();
    } catch (NoNodeException queueDeleted) {
      RecipeNodes.ensurePath(client, path, acl);
      return client.create(RecipeNodes.join(path, PREFIX), item, itemOptions).path();
    }
  }

  /** Removes and returns the head, waiting as long as it takes for one. */
  public byte[] take() throws InterruptedException {
    return poll(null);
  }

  /**
   * Removes and returns the head, waiting up to {@code timeout} (null: no limit) for one.
   *
   * @return the item, or null if none arrived in time
   */
  public byte[] poll(Duration timeout) throws InterruptedException {
    long deadline = Wakeup.deadline(timeout);
    Wakeup wakeup = null;
    try {
      while (true) {
        byte[] item = tryTake(items(null));
        if (item != null) {
          return item;
        }
        if (wakeup == null) {
          wakeup = new Wakeup(client);
        }
        // Watch, then look once more: an item offered in between fires the watch or is seen now.
        item = tryTake(items(wakeup));
        if (item != null) {
          return item;
        }
        if (!wakeup.await(deadline)) {
          return null;
        }
      }
    } finally {
      if (wakeup != null) {
        wakeup.close();
      }
    }
  }

  /** Removes and returns the head if there is one, without waiting. */
  public byte[] poll() {
    return tryTake(items(null));
  }

  /** How many items are queued now. */
  public int size() {
    return items(null).size();
  }

  private List<String> items(Wakeup watch) {
    List<String> names;
    try {
      names = client.getChildren(path, watch);
    } catch (NoNodeException notYet) {
      if (watch == null) {
        return List.of();
      }
      // The queue node does not exist yet: watch for its creation instead.
      client.exists(path, watch);
      return List.of();
    }
    List<String> items = new ArrayList<>(names.size());
    for (String n : names) {
      if (n.startsWith(PREFIX)) {
        items.add(n);
      }
    }
    items.sort(null); // the 10-digit suffix sorts as a number
    return items;
  }

  /** Takes the first item this consumer manages to delete; null if all were taken by others. */
  private byte[] tryTake(List<String> items) {
    for (String name : items) {
      String node = RecipeNodes.join(path, name);
      try {
        NodeData data = client.getData(node);
        client.delete(node, data.stat().getVersion());
        return data.data();
      } catch (NoNodeException takenByAnother) {
        // another consumer got it first: try the next one
      }
    }
    return null;
  }

  public String path() {
    return path;
  }
}
