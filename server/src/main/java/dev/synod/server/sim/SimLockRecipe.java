package dev.synod.server.sim;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The lock recipe as the SDK's Mutex runs it, driven by a {@link SimClient}: create an
 * ephemeral-sequential node under {@link LockChecker#LOCK}, list the children (sometimes after a
 * Sync), hold the lock when the own node is the lowest, else poll again later (the SDK watches
 * its predecessor; polling reaches the same states). A holder writes its fencing token (its
 * node's czxid) to {@link LockChecker#FENCED} now and then with a multi that first checks its
 * node exists, holds for a while, then deletes its node. It stops believing it holds when it
 * releases, when its session ends, when a protected write is refused (its node is gone), or
 * when the time for which the servers confirmed its session has run out (the SDK's jeopardy). One write at a
 * time, each after the previous was answered, which {@link LockChecker} relies on.
 */
final class SimLockRecipe {
  private enum Phase {
    /** Creating {@link LockChecker#LOCK} and {@link LockChecker#FENCED} (once per client). */
    SETUP,
    IDLE,
    CREATING,
    WAITING,
    HOLDING,
    RELEASING
  }

  private static final long MS = 1_000_000L;

  private final SimClient client;
  private final ServerSimulator sim;
  private final LockChecker locks;
  private final SplittableRandom random;
  private Phase phase = Phase.SETUP;
  /** Parents created so far in {@link Phase#SETUP}. */
  private int parents;
  /** The own node's full path while it may exist. */
  private String node;
  private long token;
  private boolean believing;
  private long holdUntilNanos;
  private long nextNanos;
  /** In {@link Phase#WAITING}: sync before the next listing, and whether that Sync was answered. */
  private boolean syncFirst;
  private boolean synced;

  SimLockRecipe(SimClient client, ServerSimulator sim, LockChecker locks, SplittableRandom random) {
    this.client = client;
    this.sim = sim;
    this.locks = locks;
    this.random = random;
  }

  /** One step, when the client has a session, a stream, and no read in flight. */
  void step(long now) {
    if (!client.idle() || now < nextNanos) {
      return;
    }
    switch (phase) {
      case SETUP -> {
        String path = parents == 0 ? LockChecker.LOCK : LockChecker.FENCED;
        client.send(Request.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path)
            .setData(ByteString.copyFromUtf8("0")).setKind(NodeKind.PERSISTENT)), r -> {
              if (!r.hasError() || r.getError().getReason() == ErrorReason.NODE_EXISTS) {
                parents++;
                phase = parents == 2 ? Phase.IDLE : Phase.SETUP;
              }
            });
      }
      case IDLE -> {
        if (!sim.writing()) {
          return;
        }
        phase = Phase.CREATING;
        client.send(Request.newBuilder().setCreate(CreateRequest.newBuilder()
            .setPath(LockChecker.NODE_PREFIX).setSequential(true).setKind(NodeKind.EPHEMERAL)
            .setData(ByteString.copyFromUtf8("client " + client.id()))), this::created);
      }
      case WAITING -> {
        if (syncFirst && !synced) {
          client.sync(zxid -> synced = true);
        } else {
          client.read(Request.newBuilder().setGetChildren(GetChildrenRequest.newBuilder()
              .setPath(LockChecker.LOCK)), this::listed);
        }
      }
      case HOLDING -> {
        if (!believing || now >= holdUntilNanos || !sim.writing()) {
          release();
        } else if (random.nextInt(3) == 0) {
          protectedWrite();
        }
      }
      case CREATING, RELEASING -> { } // answered through the write's callback
    }
  }

  private void created(Response r) {
    if (r.hasError()) {
      phase = Phase.IDLE;
      return;
    }
    node = r.getCreate().getPath();
    token = r.getCreate().getStat().getCzxid();
    phase = Phase.WAITING;
    newPoll();
  }

  private void newPoll() {
    syncFirst = random.nextBoolean();
    synced = false;
  }

  private void listed(Response r) {
    if (phase != Phase.WAITING) {
      return;
    }
    List<String> children = r.hasError() ? List.of() : r.getGetChildren().getChildrenList();
    String own = node.substring(LockChecker.LOCK.length() + 1);
    if (!children.contains(own)) {
      phase = Phase.IDLE; // the node is gone (its session ended: the client hears of it soon)
      node = null;
      return;
    }
    if (children.get(0).equals(own)) {
      long now = sim.nowNanos();
      locks.acquired(client.id(), client.sessionId(), node, r.getZxid(), now,
          client.confirmedUntilNanos(), client.sessionTimeoutNanos());
      believing = true;
      phase = Phase.HOLDING;
      holdUntilNanos = now + (20 + random.nextInt(500)) * MS;
    } else {
      nextNanos = sim.nowNanos() + (10 + random.nextInt(100)) * MS;
      newPoll();
    }
  }

  /** Writes the token to the fenced node if (and only if) the own node still exists. */
  private void protectedWrite() {
    client.send(Request.newBuilder().setMulti(MultiRequest.newBuilder()
        .addOps(Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath(node)))
        .addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath(LockChecker.FENCED)
            .setData(ByteString.copyFromUtf8(Long.toString(token))).setVersion(-1)))), r -> {
              if (r.hasError() && phase == Phase.HOLDING) {
                stopBelieving(); // the check failed: the node is gone, and the lock with it
                phase = Phase.IDLE;
                node = null;
              }
            });
  }

  private void release() {
    stopBelieving();
    phase = Phase.RELEASING;
    client.send(Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(node).setVersion(-1)), r -> {
      phase = Phase.IDLE;
      node = null;
      nextNanos = sim.nowNanos() + (10 + random.nextInt(300)) * MS;
    });
  }

  private void stopBelieving() {
    if (believing) {
      believing = false;
      locks.released(client.id());
    }
  }

  /**
   * Every step of the client, with or without a stream: the SDK's jeopardy, once the time for
   * which the servers confirmed the session has run out.
   */
  void tick(long now) {
    if (believing && now >= client.confirmedUntilNanos()) {
      stopBelieving(); // the node is deleted once a server is reachable again (HOLDING releases)
    }
  }

  /** The servers confirmed the session until then. */
  void confirmed(long untilNanos) {
    if (believing) {
      locks.confirmed(client.id(), untilNanos);
    }
  }

  /** The session ended: its node went with it. */
  void sessionEnded() {
    stopBelieving();
    node = null;
    phase = phase == Phase.SETUP ? Phase.SETUP : Phase.IDLE;
  }
}
