package dev.synod.consensus;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A hand-driven cluster for rule tests: the test decides which message is delivered or dropped,
 * who ticks, who crashes. Each node runs the driver loop of the package contract (persist, send,
 * apply, answer reads, advance) against an in-memory disk, so a crash keeps exactly what a Ready
 * persisted. Timeouts are deterministic (the random source always returns 0, so a node's election
 * timeout is electionTicksMin).
 */
final class Cluster {
  static final RandomSource ZERO = bound -> 0;

  /** An in-memory disk: what survives a crash. */
  static final class Disk {
    Ballot promised = Ballot.ZERO;
    boolean fresh;
    /** Created for a new cluster (while fresh, it may bootstrap with the other founders). */
    final boolean founding;
    final TreeMap<Long, Entry> accepted = new TreeMap<>();
    long commitIndex;
    long snapshotSlot;

    /** {@code fresh}: an empty directory created with a new cluster (a founder); else one that voted. */
    Disk(boolean fresh) {
      this(fresh, fresh);
    }

    Disk(boolean fresh, boolean founding) {
      this.fresh = fresh;
      this.founding = founding;
    }

    void persist(Replica.Ready r) {
      if (r.promised() != null) {
        promised = r.promised();
        fresh = false;
      }
      for (Entry e : r.entries()) {
        if (e.slot() > snapshotSlot) {
          accepted.put(e.slot(), e);
        }
      }
      if (r.commitIndex() >= 0) {
        commitIndex = Math.max(commitIndex, r.commitIndex());
      }
    }

    DurableState recover() {
      DurableState.Standing standing = !fresh ? DurableState.Standing.VOTER
          : founding ? DurableState.Standing.FOUNDING : DurableState.Standing.JOINING;
      return new DurableState(promised, accepted, commitIndex, snapshotSlot, standing);
    }
  }

  /** A server: its disk, its replica while up, and what it applied and answered. */
  static final class Node {
    final int id;
    final Disk disk;
    final ReplicaConfig config;
    Replica replica;
    final List<Entry> applied = new ArrayList<>();
    final List<Replica.ReadState> reads = new ArrayList<>();
    final List<Replica.Ready> readies = new ArrayList<>();
    long snapshotNeeded = -1;
    long appliedSlot;

    Node(int id, ReplicaConfig config, Disk disk) {
      this.id = id;
      this.config = config;
      this.disk = disk;
      this.replica = new Replica(config, disk.recover(), ZERO);
    }

    boolean up() {
      return replica != null;
    }
  }

  final TreeMap<Integer, Node> nodes = new TreeMap<>();
  final List<Message> inFlight = new ArrayList<>();
  /** Nodes cut off from everyone: messages to or from them are lost. */
  final java.util.TreeSet<Integer> isolated = new java.util.TreeSet<>();

  /** Nodes 1..n; {@code fresh}: all with empty disks created for a new cluster (they bootstrap it). */
  Cluster(int n, boolean fresh, Function<Integer, ReplicaConfig> config) {
    for (int id = 1; id <= n; id++) {
      nodes.put(id, new Node(id, config.apply(id), new Disk(fresh)));
    }
    for (int id = 1; id <= n; id++) {
      process(id);
    }
  }

  /** Nodes 1..n, not fresh (as if bootstrapped), with small test settings. */
  Cluster(int n) {
    this(n, false, id -> config(id, n));
  }

  static ReplicaConfig config(int id, int n) {
    return new ReplicaConfig(id, members(n), 10, 20, 2, 64, 64, 8);
  }

  static List<Integer> members(int n) {
    List<Integer> members = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      members.add(i);
    }
    return members;
  }

  Node node(int id) {
    return nodes.get(id);
  }

  Replica replica(int id) {
    return nodes.get(id).replica;
  }

  /** The driver loop: persist, send, apply, answer reads, advance; until nothing is ready. */
  void process(int id) {
    Node n = nodes.get(id);
    while (n.up() && n.replica.hasReady()) {
      Replica.Ready r = n.replica.ready();
      n.readies.add(r);
      n.disk.persist(r);
      for (Message m : r.messages()) {
        if (!isolated.contains(m.from()) && !isolated.contains(m.to())) {
          inFlight.add(m);
        }
      }
      for (Entry e : r.committed()) {
        if (e.slot() > n.appliedSlot) {
          n.applied.add(e);
          n.appliedSlot = e.slot();
        }
      }
      n.reads.addAll(r.reads());
      n.snapshotNeeded = r.snapshotNeeded();
      n.replica.advance();
    }
  }

  void tick(int id, int times) {
    for (int i = 0; i < times; i++) {
      if (nodes.get(id).up()) {
        nodes.get(id).replica.tick();
        process(id);
      }
    }
  }

  void tickAll(int times) {
    for (int i = 0; i < times; i++) {
      for (int id : nodes.keySet()) {
        tick(id, 1);
      }
    }
  }

  /** Delivers, in order, every in-flight message matching {@code which} (and what they cause), until none is left. */
  void deliver(Predicate<Message> which) {
    boolean delivered = true;
    while (delivered) {
      delivered = false;
      for (int i = 0; i < inFlight.size(); i++) {
        Message m = inFlight.get(i);
        if (which.test(m)) {
          inFlight.remove(i);
          Node to = nodes.get(m.to());
          if (to != null && to.up()) {
            to.replica.step(m);
            process(m.to());
          }
          delivered = true;
          break;
        }
      }
    }
  }

  void deliverAll() {
    deliver(m -> true);
  }

  void isolate(int id) {
    isolated.add(id);
    inFlight.removeIf(m -> m.from() == id || m.to() == id);
  }

  void heal() {
    isolated.clear();
  }

  void drop(Predicate<Message> which) {
    inFlight.removeIf(which);
  }

  /**
   * Time passes for every live node that is not isolated (an isolated one is frozen, like a paused
   * process), so each follower's memory of the old leader lapses (leader stickiness); {@code id}'s
   * campaign wins the race (the others' own pre-votes and prepares are lost). Then everything is
   * delivered: it becomes the leader, and its re-proposals (or no-op) are decided and known to
   * every reachable node.
   */
  void elect(int id) {
    Node n = nodes.get(id);
    int ticks = 0;
    while (!n.replica.isLeader()) {
      tick(id, 1);
      for (int other : nodes.keySet()) {
        if (other != id && !isolated.contains(other)) {
          tick(other, 1);
        }
      }
      drop(m -> m.from() != id && (m instanceof Message.PreVote || m instanceof Message.Prepare));
      deliverAll();
      if (++ticks > 1000) {
        throw new AssertionError("node " + id + " did not become leader: " + n.replica.status());
      }
    }
    settle(id);
  }

  /** Delivers everything, then a heartbeat round so followers learn the leader's commit index. */
  void settle(int leader) {
    deliverAll();
    tick(leader, nodes.get(leader).config.heartbeatTicks());
    deliverAll();
  }

  /** Proposes values at the leader and delivers everything: they are decided everywhere reachable. */
  void write(int leader, String... values) {
    for (String v : values) {
      if (!replica(leader).propose(bytes(v))) {
        throw new AssertionError("node " + leader + " refused a proposal: " + replica(leader).status());
      }
    }
    process(leader);
    settle(leader);
  }

  /** Volatile state is lost; whatever the last processed Ready persisted remains. */
  void crash(int id) {
    nodes.get(id).replica = null;
    inFlight.removeIf(m -> m.to() == id);
  }

  void restart(int id) {
    Node n = nodes.get(id);
    n.replica = new Replica(n.config, n.disk.recover(), ZERO);
    n.applied.clear();
    n.appliedSlot = n.disk.snapshotSlot;
    process(id);
  }

  /** The data directory is lost: the node comes back fresh, to join the existing cluster. */
  void wipe(int id) {
    Node old = nodes.get(id);
    Node n = new Node(id, old.config, new Disk(true, false));
    nodes.put(id, n);
    inFlight.removeIf(m -> m.to() == id);
    process(id);
  }

  static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  static String text(Entry e) {
    return e.isNoop() ? "-" : new String(e.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** What a node applied, as text ("-" for a no-op). */
  List<String> applied(int id) {
    List<String> values = new ArrayList<>();
    for (Entry e : nodes.get(id).applied) {
      values.add(text(e));
    }
    return values;
  }
}
