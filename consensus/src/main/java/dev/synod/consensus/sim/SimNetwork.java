package dev.synod.consensus.sim;

import dev.synod.consensus.RandomSource;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * A fake network: every message is delayed 1..delayTicksMax ticks (so messages reorder), may be
 * lost or duplicated, and is dropped when a partition separates its ends at send or delivery.
 * Messages travel as bytes, so every one goes through the codec.
 */
final class SimNetwork {
  /** A message on the wire. {@code order} breaks ties between messages due in the same tick. */
  record InFlight(long deliverAt, long order, int from, int to, byte[] bytes) {}

  private final RandomSource random;
  private final SimConfig config;
  private final PriorityQueue<InFlight> queue = new PriorityQueue<>((a, b) ->
      a.deliverAt != b.deliverAt ? Long.compare(a.deliverAt, b.deliverAt) : Long.compare(a.order, b.order));
  /** The side of the partition each node (by id) is on; all 0 when healed. */
  private final int[] side;
  private boolean faulty = true;
  private long sent;
  private long dropped;
  private long sequence;

  SimNetwork(RandomSource random, SimConfig config) {
    this(random, config, config.replicas());
  }

  /** A network of {@code nodes} nodes (ids 1..nodes). */
  SimNetwork(RandomSource random, SimConfig config, int nodes) {
    this.random = random;
    this.config = config;
    this.side = new int[nodes + 1];
  }

  void send(int from, int to, byte[] bytes, long now) {
    sent++;
    if (!connected(from, to) || (faulty && random.nextInt(1000) < config.dropPerMille())) {
      dropped++;
      return;
    }
    enqueue(from, to, bytes, now);
    if (faulty && random.nextInt(1000) < config.duplicatePerMille()) {
      enqueue(from, to, bytes, now);
    }
  }

  private void enqueue(int from, int to, byte[] bytes, long now) {
    boolean late = faulty && random.nextInt(1000) < config.longDelayPerMille();
    long delay = 1 + random.nextInt(late ? config.longDelayTicksMax() : config.delayTicksMax());
    // A random order within a tick, made unique by a sequence number.
    long order = ((long) random.nextInt(1 << 20) << 40) | sequence++;
    queue.add(new InFlight(now + delay, order, from, to, bytes));
  }

  /**
   * Holds a message for a stalled replica until it resumes, and a little longer: a resumed process
   * may act on its stale view (serve a read, propose) before it drains its inbox.
   */
  void hold(InFlight m, long until) {
    queue.add(new InFlight(until + 1 + random.nextInt(config.delayTicksMax()), m.order(), m.from(),
        m.to(), m.bytes()));
  }

  /** The next message due by {@code now}, or null. Partitioned ones are dropped on the way. */
  InFlight nextDue(long now) {
    while (!queue.isEmpty() && queue.peek().deliverAt() <= now) {
      InFlight m = queue.poll();
      if (connected(m.from(), m.to())) {
        return m;
      }
      dropped++;
    }
    return null;
  }

  boolean connected(int a, int b) {
    return side[a] == side[b];
  }

  boolean partitioned() {
    for (int s : side) {
      if (s != 0) {
        return true;
      }
    }
    return false;
  }

  /** Cuts off one node. Returns a description. */
  String isolate(int node) {
    Arrays.fill(side, 0);
    side[node] = 1;
    return "isolate " + node;
  }

  /** Cuts off one random node, or splits the cluster in two random groups. Returns a description. */
  String partition() {
    int n = side.length - 1;
    if (random.nextInt(2) == 0) {
      return isolate(1 + random.nextInt(n));
    }
    Arrays.fill(side, 0);
    StringBuilder d = new StringBuilder("split");
    for (int id = 1; id <= n; id++) {
      side[id] = random.nextInt(2);
      d.append(' ').append(id).append(':').append(side[id]);
    }
    return d.toString();
  }

  void heal() {
    Arrays.fill(side, 0);
  }

  /** Quiet phase: no more loss, duplication or partitions (delays and reordering remain). */
  void stopFaults() {
    faulty = false;
    heal();
  }

  long sent() {
    return sent;
  }

  long dropped() {
    return dropped;
  }
}
