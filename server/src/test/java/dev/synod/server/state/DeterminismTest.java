package dev.synod.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.server.auth.Acls;
import dev.synod.server.auth.Identities;
import dev.synod.api.v1.AddWatchRequest;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ExistsRequest;
import dev.synod.api.v1.GetChildrenRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.WatchKind;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.ExpireTtlTxn;
import dev.synod.txn.v1.NoopTxn;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replicas that apply the same Txns reach the same state, results and events; so does one that
 * starts from a snapshot taken half-way. A failing seed is printed; make it a regression test.
 */
class DeterminismTest {
  private static final String[] NAMES = {"a", "b", "c", "q-"};
  private static final long[] SESSIONS = {1, 2, 3};
  private static final int STEPS = 3000;

  /** A seeded stream of Txns and reads over a small namespace, so ops collide often. */
  private static final class Workload {
    final Random rng;
    final long[] nextRequestNo = new long[SESSIONS.length + 1];
    long timeMs = 1_000;

    Workload(long seed) {
      rng = new Random(seed);
    }

    String path() {
      StringBuilder path = new StringBuilder();
      int depth = 1 + rng.nextInt(3);
      for (int i = 0; i < depth; i++) {
        path.append('/').append(NAMES[rng.nextInt(NAMES.length)]);
      }
      return path.toString();
    }

    /** A path that exists in {@code reference} now, or a random one. */
    String existingPath(Snapshot reference) {
      List<String> paths = new ArrayList<>(reference.nodes().keySet());
      return rng.nextInt(4) == 0 ? path() : paths.get(rng.nextInt(paths.size()));
    }

    Integer version() {
      return switch (rng.nextInt(4)) {
        case 0 -> null;
        case 1 -> -1;
        default -> rng.nextInt(3);
      };
    }

    CreateRequest.Builder create(String path) {
      NodeKind kind = NodeKind.forNumber(rng.nextInt(4));
      CreateRequest.Builder c = CreateRequest.newBuilder().setPath(path).setKind(kind)
          .setSequential(rng.nextInt(4) == 0)
          .setData(ByteString.copyFromUtf8("d" + rng.nextInt(100)));
      if (kind == NodeKind.TTL) {
        c.setTtlMs(rng.nextInt(300));
      }
      if (rng.nextInt(10) == 0) {
        c.addAcl(Acl.newBuilder().setScheme("digest").setId("u:p").setPerms(rng.nextInt(33)));
      }
      return c;
    }

    Op op(Snapshot reference) {
      return switch (rng.nextInt(4)) {
        case 0 -> {
          CheckRequest.Builder check = CheckRequest.newBuilder().setPath(existingPath(reference));
          Integer v = version();
          if (v != null) {
            check.setVersion(v);
          }
          yield Op.newBuilder().setCheck(check).build();
        }
        case 1 -> Op.newBuilder().setCreate(create(path())).build();
        case 2 -> Op.newBuilder().setDelete(delete(existingPath(reference))).build();
        default -> Op.newBuilder().setSetData(setData(existingPath(reference))).build();
      };
    }

    DeleteRequest.Builder delete(String path) {
      DeleteRequest.Builder d = DeleteRequest.newBuilder().setPath(path);
      Integer v = version();
      if (v != null) {
        d.setVersion(v);
      }
      return d;
    }

    SetDataRequest.Builder setData(String path) {
      SetDataRequest.Builder s = SetDataRequest.newBuilder().setPath(path)
          .setData(ByteString.copyFromUtf8("s" + rng.nextInt(100)));
      Integer v = version();
      if (v != null) {
        s.setVersion(v);
      }
      return s;
    }

    /** The next Txn (without its zxid), shaped by the reference replica's current state. */
    Txn.Builder txn(Snapshot reference, StateMachine referenceMachine) {
      // Now and then a stamp from behind (a new leader whose clock is late): apply takes the
      // decided time instead, alike on every replica.
      timeMs += rng.nextInt(20) == 0 ? -rng.nextInt(500) : rng.nextInt(100);
      int s = rng.nextInt(SESSIONS.length + 1); // 0: no session
      long sessionId = s == 0 ? 0 : SESSIONS[s - 1];
      Txn.Builder txn = Txn.newBuilder().setTimeMs(timeMs).setSessionId(sessionId);
      // Who writes: mostly the superuser (so ACLs the workload sets cannot freeze the tree),
      // sometimes the digest user of the workload's ACLs, sometimes nobody (NO_AUTH refusals).
      switch (rng.nextInt(4)) {
        case 0 -> { }
        case 1 -> txn.addIdentities(Identities.identity(Acls.DIGEST, "u:p"));
        default -> txn.addIdentities(Identities.identity(Acls.SUPER, "root"));
      }
      if (s != 0 && rng.nextInt(3) > 0) {
        // Mostly fresh request numbers, sometimes a retry of a recent or an ancient one.
        long requestNo = rng.nextInt(8) == 0
            ? Math.max(1, nextRequestNo[s] - rng.nextInt(6)) : ++nextRequestNo[s];
        txn.setRequestNo(requestNo);
      }
      int pick = rng.nextInt(100);
      if (pick < 25) {
        txn.setCreate(create(path()));
      } else if (pick < 40) {
        txn.setDelete(delete(existingPath(reference)));
      } else if (pick < 55) {
        txn.setSetData(setData(existingPath(reference)));
      } else if (pick < 57) {
        String quotaPath = existingPath(reference); // not the root: a tight quota there freezes all
        txn.setSetQuota(SetQuotaRequest.newBuilder().setPath(quotaPath.equals("/") ? path() : quotaPath)
            .setQuota(Quota.newBuilder().setCountHard(rng.nextInt(6)).setBytesHard(rng.nextInt(12))
                .setCountSoft(rng.nextInt(3))));
      } else if (pick < 60) {
        txn.setSetAcl(SetAclRequest.newBuilder().setPath(existingPath(reference))
            .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(1 + rng.nextInt(31))));
      } else if (pick < 72) {
        MultiRequest.Builder multi = MultiRequest.newBuilder();
        for (int i = rng.nextInt(5); i > 0; i--) {
          multi.addOps(op(reference));
        }
        txn.setMulti(multi);
      } else if (pick < 78) {
        txn.setSessionId(SESSIONS[rng.nextInt(SESSIONS.length)]).clearRequestNo()
            .setCreateSession(CreateSessionTxn.newBuilder().setSecret(rng.nextLong())
                .setTimeoutMs(5000));
      } else if (pick < 83) {
        txn.setSessionId(SESSIONS[rng.nextInt(SESSIONS.length)]).clearRequestNo()
            .setCloseSession(CloseSessionTxn.newBuilder().setExpired(rng.nextBoolean()));
      } else if (pick < 95) {
        List<StateMachine.TtlCandidate> ttl = referenceMachine.expiredTtlNodes(timeMs, 1);
        ExpireTtlTxn.Builder expire = ttl.isEmpty() || rng.nextInt(5) == 0
            ? ExpireTtlTxn.newBuilder().setPath(existingPath(reference)).setMzxid(rng.nextInt(50))
            : ExpireTtlTxn.newBuilder().setPath(ttl.get(0).path()).setMzxid(ttl.get(0).mzxid());
        txn.setSessionId(0).clearRequestNo().setExpireTtl(expire);
      } else {
        txn.setNoop(NoopTxn.getDefaultInstance());
      }
      return txn;
    }

    /** Sometimes a read that leaves a watch, by a session or a sessionless watcher. */
    Request read(Snapshot reference) {
      String path = existingPath(reference);
      Request.Builder r = Request.newBuilder().setRequestNo(1);
      return switch (rng.nextInt(4)) {
        case 0 -> r.setGetData(GetDataRequest.newBuilder().setPath(path).setWatch(true)).build();
        case 1 -> r.setExists(ExistsRequest.newBuilder().setPath(path()).setWatch(true)).build();
        case 2 -> r.setGetChildren(GetChildrenRequest.newBuilder().setPath(path).setWatch(true))
            .build();
        default -> r.setAddWatch(AddWatchRequest.newBuilder().setPath(path)
            .setKind(rng.nextBoolean() ? WatchKind.WATCH_PERSISTENT
                : WatchKind.WATCH_PERSISTENT_RECURSIVE)
            .setIncludeData(rng.nextBoolean())).build();
      };
    }

    long watcher() {
      return rng.nextInt(3) == 0 ? -1 - rng.nextInt(2) : SESSIONS[rng.nextInt(SESSIONS.length)];
    }
  }

  /** Everything a replica produced, in order. */
  private static final class Trace {
    final Harness replica;
    final List<String> outputs = new ArrayList<>();

    Trace(Harness replica) {
      this.replica = replica;
    }

    void apply(Txn txn) {
      replica.sm.apply(txn.toBuilder().setZxid(replica.sm.lastZxid() + 1).build(),
          r -> outputs.add("response " + r));
      drainEvents();
    }

    void read(long watcherId, Request request) {
      // The watcher of everything (-100) is a superuser, so ACLs the workload sets (a root that
      // lost READ) hide nothing from it; the others read anonymously.
      Identities who = watcherId == -100
          ? Identities.of(List.of(Identities.identity(Acls.SUPER, "test"))) : Identities.ANONYMOUS;
      replica.sm.read(watcherId, who, request, r -> outputs.add("read " + watcherId + " " + r));
      drainEvents();
    }

    void drainEvents() {
      for (Harness.Dispatched d : replica.recorder.events) {
        outputs.add("event " + d.watcherId() + " " + d.event());
      }
      for (Harness.Ended e : replica.recorder.ended) {
        outputs.add("ended " + e);
      }
      replica.recorder.events.clear();
      replica.recorder.ended.clear();
    }
  }

  private static void run(long seed) {
    Workload w = new Workload(seed);
    Trace a = new Trace(new Harness());
    Trace b = new Trace(new Harness());
    Trace fromSnapshot = null;
    Request everything = Request.newBuilder().setRequestNo(1).setAddWatch(AddWatchRequest
        .newBuilder().setPath("/").setKind(WatchKind.WATCH_PERSISTENT_RECURSIVE)
        .setIncludeData(true)).build();
    a.read(-100, everything);
    b.read(-100, everything);
    for (int step = 0; step < STEPS; step++) {
      if (step == STEPS / 2) {
        fromSnapshot = new Trace(new Harness());
        fromSnapshot.replica.sm.restore(a.replica.sm.snapshot());
        fromSnapshot.read(-100, everything);
        a.outputs.clear();
        b.outputs.clear();
      }
      Snapshot reference = a.replica.sm.snapshot();
      if (w.rng.nextInt(4) == 0) {
        long watcher = w.watcher();
        Request read = w.read(reference);
        a.read(watcher, read);
        b.read(watcher, read);
        if (fromSnapshot != null) {
          fromSnapshot.read(watcher, read);
        }
      }
      Txn txn = w.txn(reference, a.replica.sm).build();
      a.apply(txn);
      b.apply(txn);
      if (fromSnapshot != null) {
        fromSnapshot.apply(txn);
      }
    }
    assertEquals(a.outputs, b.outputs, "seed " + seed + ": responses and events differ");
    assertEquals(a.replica.sm.snapshot(), b.replica.sm.snapshot(), "seed " + seed);
    assertEquals(a.replica.sm.snapshot(), fromSnapshot.replica.sm.snapshot(),
        "seed " + seed + ": the replica restored half-way differs");
    List<String> restoredResponses = fromSnapshot.outputs.stream()
        .filter(o -> o.startsWith("response ") || o.startsWith("event -100 ")).toList();
    assertEquals(a.outputs.stream()
        .filter(o -> o.startsWith("response ") || o.startsWith("event -100 ")).toList(),
        restoredResponses, "seed " + seed);
    assertTrue(a.replica.sm.stats().nodeCount() > 1, "seed " + seed + " built no tree");
  }

  @Test
  void replicasFedTheSameTxnsAgree() {
    for (long seed : new long[] {1, 2, 3, 42, 20_260_101}) {
      run(seed);
    }
  }

  @Test
  void theWorkloadExercisesSuccessesAndFailures() {
    Workload w = new Workload(7);
    Harness h = new Harness();
    int ok = 0;
    int failed = 0;
    for (int i = 0; i < 1000; i++) {
      Txn txn = w.txn(h.sm.snapshot(), h.sm).build();
      Response[] out = new Response[1];
      h.sm.apply(txn.toBuilder().setZxid(h.sm.lastZxid() + 1).build(), r -> out[0] = r);
      if (out[0].hasError()) {
        failed++;
      } else {
        ok++;
      }
    }
    assertTrue(ok > 200 && failed > 200, "ok " + ok + ", failed " + failed);
  }
}
