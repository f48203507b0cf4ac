package dev.synod.server.sim;

import dev.synod.api.v1.Op;
import dev.synod.api.v1.Response;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The lock recipe's guarantees, checked against the decided history. Contenders
 * ({@link SimLockRecipe}) queue as ephemeral-sequential nodes under {@link #LOCK}; the lowest holds
 * the lock, and its node's creation zxid is its fencing token.
 *
 * <p>The model: which lock nodes the decided history holds, from the decided Txns alone (a create
 * under {@link #LOCK} that took effect makes a node whose czxid is its zxid; the owner's delete of
 * its name, or the close of its session, ends it), and the names the creates' answers gave them.
 * A node is <em>held</em> at zxid z when it is alive at z and no node with a lower czxid is:
 * sequence numbers follow creation order, so at most one node is held at any zxid, and a node
 * once held stays held until it goes. Checked:
 * <ul>
 *   <li>a contender that saw its node lowest in a read at zxid r holds it at r in the decided
 *       history (the read served the decided state at r);</li>
 *   <li>the hold intervals [r, d) of distinct holders (r where the holder saw it hold, d where its
 *       node went) never overlap, and fencing tokens increase with r: at no zxid are two live
 *       sessions' nodes both considered held;</li>
 *   <li>a protected write (a multi: check the own node exists, then write the token to
 *       {@link #FENCED}) takes effect exactly when the decided history says the node is alive, and
 *       then its writer holds the lock and the token never goes back;</li>
 *   <li>a listing of {@link #LOCK} at zxid r shows exactly the nodes alive at r (of those whose
 *       names are known).</li>
 * </ul>
 * In real time a contender believes it holds from its acquisition until it releases, learns its
 * node or session is gone, or the time for which the servers confirmed its session runs out (the
 * SDK's rule). Checked: no contender acquires while another still validly believes it holds (the
 * servers never let a session expire before the time they confirmed to its client, within the
 * members' clock-rate drift). The fencing checks above are what hold regardless of time.
 *
 * <p>Which decided Txns took effect is {@link History}'s model of the state machine's session rules
 * (liveness, dedup, the FIFO chain): exact as long as nothing else refuses a write, and no limit
 * of the state machine is reached in the simulation.
 */
final class LockChecker {
  static final String LOCK = "/lock";
  static final String FENCED = "/fenced";
  /** What contenders create (sequential): the server appends a 10-digit counter. */
  static final String NODE_PREFIX = LOCK + "/n-";

  /** A lock node of the decided history. */
  private static final class Node {
    final long czxid;
    final long owner;
    String name;
    /** The zxid that deleted it; 0 while alive. */
    long deletedAt;

    Node(long czxid, long owner) {
      this.czxid = czxid;
      this.owner = owner;
    }

    boolean aliveAt(long zxid) {
      return czxid <= zxid && (deletedAt == 0 || zxid < deletedAt);
    }

    @Override
    public String toString() {
      return (name != null ? name : "an unnamed node") + " (czxid " + czxid + ", session " + owner
          + (deletedAt == 0 ? ", alive" : ", deleted at zxid " + deletedAt) + ")";
    }
  }

  /** A contender saw its node lowest in a read at {@code readZxid}. */
  private record Acquisition(int client, Node node, long readZxid) {}

  /**
   * A contender's belief that it holds the lock, in real time: valid until the time for which
   * the servers confirmed its session, less what the members' clock rates may take off it.
   */
  private static final class Belief {
    final long czxid;
    final long toleranceNanos;
    long confirmedUntilNanos;

    Belief(long czxid, long confirmedUntilNanos, long toleranceNanos) {
      this.czxid = czxid;
      this.confirmedUntilNanos = confirmedUntilNanos;
      this.toleranceNanos = toleranceNanos;
    }
  }

  private final Consumer<String> fail;
  /** Lock nodes by czxid. */
  private final TreeMap<Long, Node> nodes = new TreeMap<>();
  private final Map<String, Node> byName = new TreeMap<>();
  private final List<Acquisition> acquisitions = new ArrayList<>();
  /** What each decided protected write did (by zxid): true if it took effect. */
  private final TreeMap<Long, Boolean> protectedWrites = new TreeMap<>();
  private final TreeMap<Integer, Belief> beliefs = new TreeMap<>();
  /** The highest token a protected write has written to {@link #FENCED}. */
  private long fencedToken;
  private long protectedWritesApplied;

  LockChecker(Consumer<String> fail) {
    this.fail = fail;
  }

  // -----------------------------------------------------------------------------------------------
  // The decided history

  /** A newly decided Txn, in zxid order; {@code effective}: it took effect (see {@link History}). */
  void decided(Txn t, boolean effective) {
    if (!effective) {
      return;
    }
    long zxid = t.getZxid();
    switch (t.getOpCase()) {
      case CLOSE_SESSION -> {
        for (Node n : nodes.values()) {
          if (n.owner == t.getSessionId() && n.deletedAt == 0) {
            n.deletedAt = zxid;
          }
        }
      }
      case CREATE -> {
        if (t.getCreate().getSequential() && t.getCreate().getPath().equals(NODE_PREFIX)) {
          nodes.put(zxid, new Node(zxid, t.getSessionId()));
        }
      }
      case DELETE -> {
        String path = t.getDelete().getPath();
        if (path.startsWith(LOCK + "/")) {
          Node n = byName.get(path);
          if (n == null) {
            fail.accept("lock node " + path + " was deleted at zxid " + zxid + " before any answer"
                + " named it (its owner cannot know the name yet)");
          } else if (n.deletedAt == 0) {
            n.deletedAt = zxid;
          }
        }
      }
      case MULTI -> {
        String node = protectedNode(t);
        if (node != null) {
          decideProtectedWrite(t, node);
        }
      }
      case CREATE_SESSION, SET_DATA, SET_ACL, EXPIRE_TTL, NOOP, OP_NOT_SET -> { }
    }
  }

  /** The lock node a protected write checks, or null if {@code t} is not one. */
  static String protectedNode(Txn t) {
    if (t.getMulti().getOpsCount() != 2) {
      return null;
    }
    Op check = t.getMulti().getOps(0);
    Op write = t.getMulti().getOps(1);
    if (!check.hasCheck() || !check.getCheck().getPath().startsWith(LOCK + "/")
        || !write.hasSetData() || !write.getSetData().getPath().equals(FENCED)) {
      return null;
    }
    return check.getCheck().getPath();
  }

  private void decideProtectedWrite(Txn t, String path) {
    long zxid = t.getZxid();
    Node n = byName.get(path);
    boolean applies = n != null && n.aliveAt(zxid);
    protectedWrites.put(zxid, applies);
    if (!applies) {
      return;
    }
    protectedWritesApplied++;
    Node lower = lowestAliveBelow(n.czxid, zxid);
    if (lower != null) {
      fail.accept("a protected write of " + n + " took effect at zxid " + zxid + " while it did not"
          + " hold the lock: " + lower + " is lower and alive");
    }
    long token = Long.parseLong(t.getMulti().getOps(1).getSetData().getData().toStringUtf8());
    if (token != n.czxid) {
      fail.accept("a protected write of " + n + " at zxid " + zxid + " carries token " + token
          + ", not its node's czxid");
    } else if (token < fencedToken) {
      fail.accept("fencing broken: token " + token + " was written at zxid " + zxid + " after token "
          + fencedToken);
    }
    fencedToken = Math.max(fencedToken, token);
  }

  /** The lowest node created before {@code czxid} that is alive at {@code zxid}, or null. */
  private Node lowestAliveBelow(long czxid, long zxid) {
    for (Node m : nodes.headMap(czxid, false).values()) {
      if (m.aliveAt(zxid)) {
        return m;
      }
    }
    return null;
  }

  // -----------------------------------------------------------------------------------------------
  // What clients were told and saw

  /** A write of {@code sessionId} whose answer reports its own effect, decided as {@code t}. */
  void answered(long sessionId, Txn t, Response response) {
    if (response.hasError()) {
      if (t.hasMulti() && protectedNode(t) != null) {
        compareProtectedWrite(t, response);
      }
      return;
    }
    if (t.hasCreate() && t.getCreate().getSequential() && t.getCreate().getPath().equals(NODE_PREFIX)) {
      Node n = nodes.get(response.getZxid());
      String name = response.getCreate().getPath();
      if (n == null || n.owner != sessionId) {
        fail.accept("session " + sessionId + " was told lock node " + name + " was created at zxid "
            + response.getZxid() + ", where the decided history created no lock node of it");
      } else if (n.name == null) {
        n.name = name;
        Node before = byName.put(name, n);
        if (before != null) {
          fail.accept("lock node name " + name + " was given twice: " + before + " and " + n);
        }
      }
    } else if (t.hasMulti() && protectedNode(t) != null) {
      compareProtectedWrite(t, response);
    }
  }

  private void compareProtectedWrite(Txn t, Response response) {
    Boolean applied = protectedWrites.get(response.getZxid());
    boolean told = !response.hasError();
    if (applied != null && applied != told) {
      fail.accept("the protected write at zxid " + response.getZxid() + " of " + protectedNode(t)
          + " was answered " + (told ? "success" : response.getError().getReason()) + " but the"
          + " decided history says it " + (applied ? "took effect" : "could not"));
    }
  }

  /** A listing of {@link #LOCK} served at {@code zxid}. */
  void listed(long zxid, List<String> children) {
    List<String> paths = new ArrayList<>(children.size());
    for (String child : children) {
      String path = LOCK + "/" + child;
      paths.add(path);
      Node n = byName.get(path);
      if (n != null && !n.aliveAt(zxid)) {
        fail.accept("a listing of " + LOCK + " at zxid " + zxid + " shows " + n);
      }
    }
    for (Node n : byName.values()) {
      if (n.aliveAt(zxid) && !paths.contains(n.name)) {
        fail.accept("a listing of " + LOCK + " at zxid " + zxid + " misses " + n);
      }
    }
  }

  /**
   * Client {@code client} saw its node {@code name} lowest in a read at {@code readZxid} and
   * from now believes it holds the lock.
   */
  void acquired(int client, long sessionId, String name, long readZxid, long nowNanos,
      long confirmedUntilNanos, long timeoutNanos) {
    Node n = byName.get(name);
    if (n == null || n.owner != sessionId) {
      fail.accept("client " + client + " (session " + sessionId + ") acquired with " + name
          + ", which the decided history does not know as its node");
      return;
    }
    if (!n.aliveAt(readZxid)) {
      fail.accept("client " + client + " saw its node " + n + " in a read at zxid " + readZxid);
      return;
    }
    Node lower = lowestAliveBelow(n.czxid, readZxid);
    if (lower != null) {
      fail.accept("two holders: client " + client + " saw its node " + n + " lowest at zxid "
          + readZxid + ", but " + lower + " was alive then");
      return;
    }
    for (Acquisition a : acquisitions) {
      if (a.node != n) {
        checkApart(a, new Acquisition(client, n, readZxid));
      }
    }
    acquisitions.add(new Acquisition(client, n, readZxid));
    for (Map.Entry<Integer, Belief> e : beliefs.entrySet()) {
      Belief b = e.getValue();
      if (e.getKey() != client && b.confirmedUntilNanos - b.toleranceNanos > nowNanos) {
        fail.accept("two live holders: client " + e.getKey() + " still held the lock with token "
            + b.czxid + ", its session confirmed for " + (b.confirmedUntilNanos - nowNanos) / 1_000_000
            + " ms more, when client " + client + " acquired it with token " + n.czxid + " at zxid "
            + readZxid);
      }
    }
    beliefs.put(client, new Belief(n.czxid, confirmedUntilNanos,
        History.driftToleranceNanos(timeoutNanos)));
  }

  /** Hold intervals [r, d) of two acquisitions of distinct nodes are apart, tokens in order. */
  private void checkApart(Acquisition a, Acquisition b) {
    Acquisition first = a.readZxid <= b.readZxid ? a : b;
    Acquisition second = first == a ? b : a;
    long released = first.node.deletedAt;
    if (released == 0 || released > second.readZxid) {
      fail.accept("two holders at zxid " + second.readZxid + ": client " + first.client + " held "
          + first.node + " from zxid " + first.readZxid + " and client " + second.client
          + " acquired " + second.node);
    } else if (first.node.czxid >= second.node.czxid) {
      fail.accept("fencing tokens went back: token " + first.node.czxid + " held from zxid "
          + first.readZxid + ", then token " + second.node.czxid + " from zxid " + second.readZxid);
    }
  }

  /** The servers confirmed the believing client's session until {@code untilNanos}. */
  void confirmed(int client, long untilNanos) {
    Belief b = beliefs.get(client);
    if (b != null) {
      b.confirmedUntilNanos = Math.max(b.confirmedUntilNanos, untilNanos);
    }
  }

  /** The client no longer believes it holds (released, lost, or gave up). */
  void released(int client) {
    beliefs.remove(client);
  }

  // -----------------------------------------------------------------------------------------------
  // Reading

  long acquisitions() {
    return acquisitions.size();
  }

  long protectedWritesApplied() {
    return protectedWritesApplied;
  }

}
