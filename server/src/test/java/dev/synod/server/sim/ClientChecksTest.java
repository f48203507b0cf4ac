package dev.synod.server.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.CheckRequest;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.CreateResponse;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.Error;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.GetDataResponse;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.api.v1.Stat;
import dev.synod.txn.v1.CloseSessionTxn;
import dev.synod.txn.v1.CreateSessionTxn;
import dev.synod.txn.v1.Txn;
import org.junit.jupiter.api.Test;

/**
 * The simulator's checks of what clients see (plain reads, session endings) and of the lock
 * recipe ({@link LockChecker}) catch what they are meant to, and pass a correct history: each is
 * fed a small decided history by hand.
 */
class ClientChecksTest {
  private static final long MS = 1_000_000L;
  private final History history = new History();
  /** Simulated time. */
  private long nowNanos;

  private void decide(Txn.Builder txn) {
    history.applied(1, txn.setZxid(history.decidedCount() + 1).build(), nowNanos);
  }

  /** A session, its id the zxid that created it (as the replica loop stamps it). */
  private long openSession() {
    long id = history.decidedCount() + 1;
    decide(Txn.newBuilder().setSessionId(id)
        .setCreateSession(CreateSessionTxn.newBuilder().setTimeoutMs(1_000)));
    return id;
  }

  private void write(long session, long requestNo, Txn.Builder op, Response.Builder answer) {
    decide(op.setSessionId(session).setRequestNo(requestNo));
    long zxid = history.decidedCount();
    history.answered(session, requestNo, 0, 0, 1, answer.setRequestNo(requestNo).setZxid(zxid).build(), 1);
  }

  /** A contender's lock node, created and answered; returns its path. */
  private String lockNode(long session, long requestNo) {
    long zxid = history.decidedCount() + 1;
    String path = String.format("%s%010d", LockChecker.NODE_PREFIX, zxid);
    write(session, requestNo, Txn.newBuilder().setCreate(CreateRequest.newBuilder()
        .setPath(LockChecker.NODE_PREFIX).setSequential(true).setKind(NodeKind.EPHEMERAL)),
        Response.newBuilder().setCreate(CreateResponse.newBuilder().setPath(path)
            .setStat(Stat.newBuilder().setCzxid(zxid).setMzxid(zxid))));
    return path;
  }

  private static Txn.Builder protectedWrite(String node, long token) {
    return Txn.newBuilder().setMulti(MultiRequest.newBuilder()
        .addOps(Op.newBuilder().setCheck(CheckRequest.newBuilder().setPath(node)))
        .addOps(Op.newBuilder().setSetData(SetDataRequest.newBuilder().setPath(LockChecker.FENCED)
            .setData(ByteString.copyFromUtf8(Long.toString(token))))));
  }

  /** Acquires, its session confirmed for a second from now. */
  private void acquire(int client, long session, String node) {
    history.locks().acquired(client, session, node, history.decidedCount(), nowNanos,
        nowNanos + 1_000 * MS, 1_000 * MS);
  }

  private void expire(long session) {
    decide(Txn.newBuilder().setSessionId(session).setCloseSession(CloseSessionTxn.newBuilder().setExpired(true)));
  }

  @Test
  void successiveHoldersWhoseIntervalsAreApartPass() {
    long a = openSession();
    long b = openSession();
    String nodeA = lockNode(a, 1);
    String nodeB = lockNode(b, 1);
    acquire(1, a, nodeA);
    write(a, 2, protectedWrite(nodeA, 3), Response.newBuilder());
    history.locks().released(1); // it stops believing it holds, then deletes its node
    write(a, 3, Txn.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(nodeA)), Response.newBuilder());
    acquire(2, b, nodeB);
    write(b, 2, protectedWrite(nodeB, 4), Response.newBuilder());
    assertNull(history.violation());
    assertEquals(2, history.locks().acquisitions());
    assertEquals(2, history.locks().protectedWritesApplied());
  }

  @Test
  void aContenderThatSeesItselfLowestWhileALowerNodeLivesIsASecondHolder() {
    long a = openSession();
    long b = openSession();
    String nodeA = lockNode(a, 1);
    String nodeB = lockNode(b, 1);
    acquire(1, a, nodeA);
    acquire(2, b, nodeB);
    assertTrue(String.valueOf(history.violation()).startsWith("two holders"), history.violation());
  }

  @Test
  void aSessionsCloseReleasesItsNodeForTheNextHolder() {
    long a = openSession();
    long b = openSession();
    String nodeA = lockNode(a, 1);
    String nodeB = lockNode(b, 1);
    acquire(1, a, nodeA);
    nowNanos += 1_000 * MS; // its confirmed second is over: client 1 no longer believes it holds
    expire(a);
    acquire(2, b, nodeB);
    assertNull(history.violation());
  }

  @Test
  void aContenderAcquiringWhileAnotherIsConfirmedToHoldIsCaught() {
    long a = openSession();
    long b = openSession();
    String nodeA = lockNode(a, 1);
    String nodeB = lockNode(b, 1);
    acquire(1, a, nodeA);
    nowNanos += 500 * MS; // client 1's session is confirmed for half a second more
    expire(a);
    acquire(2, b, nodeB);
    assertTrue(String.valueOf(history.violation()).startsWith("two live holders"), history.violation());
  }

  @Test
  void aSessionExpiredBeforeTheTimeConfirmedToItsClientIsCaught() {
    long s = openSession();
    history.confirmed(s, 2_000 * MS);
    nowNanos = 1_900 * MS;
    expire(s);
    assertTrue(String.valueOf(history.violation()).contains("before the time the servers had confirmed"),
        history.violation());
  }

  @Test
  void aSessionExpiredOnceItsConfirmedTimeIsOverPasses() {
    long s = openSession();
    history.confirmed(s, 2_000 * MS);
    // Within what clock rates off by 300 ppm each may take off a 1 s timeout (and 1 ms rounding).
    nowNanos = 2_000 * MS - History.driftToleranceNanos(1_000 * MS);
    expire(s);
    assertNull(history.violation());
  }

  @Test
  void aProtectedWriteAnsweredSuccessAfterItsNodeWentIsCaught() {
    long a = openSession();
    String nodeA = lockNode(a, 1);
    write(a, 2, Txn.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(nodeA)), Response.newBuilder());
    write(a, 3, protectedWrite(nodeA, 2), Response.newBuilder()); // success: cannot be
    assertTrue(String.valueOf(history.violation()).contains("could not"), history.violation());
  }

  @Test
  void aProtectedWriteRefusedAfterItsNodeWentPasses() {
    long a = openSession();
    String nodeA = lockNode(a, 1);
    write(a, 2, Txn.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(nodeA)), Response.newBuilder());
    write(a, 3, protectedWrite(nodeA, 2), Response.newBuilder().setError(Error.newBuilder()
        .setReason(ErrorReason.NO_NODE)));
    assertNull(history.violation());
    assertEquals(0, history.locks().protectedWritesApplied());
  }

  private void setKey(long session, long requestNo, String value) {
    write(session, requestNo, Txn.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/k0")
        .setData(ByteString.copyFromUtf8(value))), Response.newBuilder());
  }

  private void read(long session, long floorZxid, long zxid, long mzxid, String value) {
    history.read(session, floorZxid, Request.newBuilder().setGetData(GetDataRequest.newBuilder()
        .setPath("/k0")).build(), Response.newBuilder().setZxid(zxid).setGetData(GetDataResponse
        .newBuilder().setData(ByteString.copyFromUtf8(value)).setStat(Stat.newBuilder().setMzxid(mzxid)))
        .build());
  }

  @Test
  void aReadOfTheStateAtItsZxidPasses() {
    long s = openSession();
    setKey(s, 1, "a"); // zxid 2
    setKey(s, 2, "b"); // zxid 3
    read(s, 2, 2, 2, "a"); // an older state than the newest is fine, if not older than seen
    read(s, 3, 3, 3, "b");
    assertNull(history.violation());
  }

  @Test
  void aReadOlderThanWhatTheSessionSawIsCaught() {
    long s = openSession();
    setKey(s, 1, "a");
    setKey(s, 2, "b");
    read(s, 3, 2, 2, "a");
    assertTrue(String.valueOf(history.violation()).startsWith("not sequentially consistent"),
        history.violation());
  }

  @Test
  void aReadMissingAWriteAcknowledgedBeforeItsZxidIsCaught() {
    long s = openSession();
    setKey(s, 1, "a");
    setKey(s, 2, "b");
    read(s, 0, 3, 2, "a");
    assertTrue(String.valueOf(history.violation()).startsWith("stale read"), history.violation());
  }

  @Test
  void aValueNeverWrittenAtItsVersionIsCaught() {
    long s = openSession();
    setKey(s, 1, "a");
    read(s, 0, 2, 2, "z");
    assertTrue(String.valueOf(history.violation()).contains("holds 'z', not 'a'"), history.violation());
  }

  private void casKey(long session, long requestNo, int version, Response.Builder answer) {
    write(session, requestNo, Txn.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/k0")
        .setData(ByteString.copyFromUtf8("r" + requestNo)).setVersion(version)), answer);
  }

  private static Response.Builder ok() {
    return Response.newBuilder();
  }

  private static Response.Builder badVersion() {
    return Response.newBuilder().setError(Error.newBuilder().setReason(ErrorReason.BAD_VERSION));
  }

  @Test
  void compareAndSetsAnsweredAsTheirVersionsSayPass() {
    long s = openSession();
    write(s, 1, Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/k0")), ok()); // version 0
    casKey(s, 2, 0, ok()); // 0 -> 1
    casKey(s, 3, 0, badVersion()); // stale
    casKey(s, 4, 1, ok()); // 1 -> 2
    assertNull(history.violation());
  }

  @Test
  void aCompareAndSetOfAStaleVersionAnsweredOkIsCaught() {
    long s = openSession();
    write(s, 1, Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/k0")), ok());
    casKey(s, 2, 0, ok());
    casKey(s, 3, 0, ok()); // version 1 by now: it must have failed
    assertTrue(String.valueOf(history.violation()).contains("must fail"), history.violation());
  }

  @Test
  void aCompareAndSetOfTheRightVersionRefusedIsCaught() {
    long s = openSession();
    write(s, 1, Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/k0")), ok());
    casKey(s, 2, 0, badVersion());
    assertTrue(String.valueOf(history.violation()).contains("must succeed"), history.violation());
  }

  @Test
  void aSessionToldItEndedWhileTheLogHasItOpenIsCaught() {
    long s = openSession();
    history.ended(s, history.decidedCount(), "a test");
    assertTrue(String.valueOf(history.violation()).contains("has it open"), history.violation());
  }
}
