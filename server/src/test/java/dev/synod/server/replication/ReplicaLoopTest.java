package dev.synod.server.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.Response;
import dev.synod.consensus.Ballot;
import dev.synod.consensus.DurableState;
import dev.synod.consensus.Replica;
import dev.synod.peer.v1.PeerEnvelope;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.Applied;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.WatchDispatcher;
import dev.synod.server.storage.Snapshot;
import dev.synod.txn.v1.Txn;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The replica loop stepped by hand, one member, no threads: what it does with each event. */
class ReplicaLoopTest {
  /** A clock the test moves. */
  private static final class TestClock implements Clock {
    long nanos = 1_000_000_000L;

    @Override
    public long wallMs() {
      return 1_700_000_000_000L + nanos / 1_000_000;
    }

    @Override
    public long monoNanos() {
      return nanos;
    }
  }

  /** Records the effects the loop asks for. */
  private static final class Effects implements ReplicaEffects {
    final List<Snapshot> snapshotWrites = new ArrayList<>();
    final List<Long> fetches = new ArrayList<>();
    /** When set, log writes wait here (as on the persist stage) until the test completes them. */
    boolean staged;
    final java.util.ArrayDeque<Long> rounds = new java.util.ArrayDeque<>();
    final java.util.ArrayDeque<LogWrite> writes = new java.util.ArrayDeque<>();

    @Override
    public boolean persist(long round, LogWrite write) throws java.io.IOException {
      if (!staged) {
        write.run();
        return true;
      }
      rounds.add(round);
      writes.add(write);
      return false;
    }

    /** The persist stage finishes the oldest write: returns its completion, for the loop. */
    ReplicaEvent.Persisted finishOne() throws java.io.IOException {
      writes.poll().run();
      return new ReplicaEvent.Persisted(rounds.poll(), null);
    }

    /** What was sent, as "to:kind", in order. */
    final List<String> sent = new ArrayList<>();

    @Override
    public void send(int to, PeerEnvelope envelope) {
      String kind = envelope.getBodyCase().name();
      if (envelope.hasConsensus()) {
        kind = dev.synod.consensus.MessageCodec.decode(envelope.getConsensus().toByteArray()).getClass().getSimpleName();
      }
      sent.add(to + ":" + kind);
    }

    @Override
    public void writeSnapshot(Snapshot snapshot) {
      snapshotWrites.add(snapshot);
    }

    @Override
    public void fetchSnapshot(int leaderId, long minSlot, long clusterId) {
      fetches.add(minSlot);
    }

    @Override
    public void notice(String line) {}

    final List<dev.synod.consensus.Membership> memberships = new ArrayList<>();

    @Override
    public void membershipChanged(dev.synod.consensus.Membership m, boolean proposed) {
      if (!proposed) {
        memberships.add(m);
      }
    }
  }

  private static final ReplicaLog NO_LOG = new ReplicaLog() {
    @Override
    public void persist(Replica.Ready ready) {}

    @Override
    public void truncateCoveredBy(long slot) {}

    @Override
    public void snapshotInstalled(long slot) {}

    @Override
    public void recordClusterIdentity(dev.synod.server.storage.ClusterIdentity identity) {}
  };

  private final TestClock clock = new TestClock();
  private final Effects effects = new Effects();
  private final StateMachine state = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
  private ReplicaLog log = NO_LOG;

  /** Server 2 of the static cluster {@code members}, with nothing in its log yet. */
  private ReplicaLoop member2(String members, StateMachine on, dev.synod.server.storage.ClusterIdentity identity,
      DurableState.Standing standing) throws Exception {
    ServerConfig config = dev.synod.server.config.ConfigParser.parse("--server-id", "2", "--members", members);
    ClusterConfig cluster = ClusterConfig.parse(config.members(), config.serverId(), config.host(), config.peerPort());
    return new ReplicaLoop(config, cluster, on, new SessionTracker(clock), NO_LOG, effects, clock,
        new dev.synod.server.pipeline.ClusterTime(clock, on::lastTimeMs), new SplittableRandom(9), identity,
        Optional.empty(), new DurableState(Ballot.ZERO, new TreeMap<>(), 0, 0, standing), () -> { }, txn -> { });
  }

  private ReplicaLoop singleMember(String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of(flags));
    ServerConfig config = dev.synod.server.config.ConfigParser.parse(args.toArray(String[]::new));
    ClusterConfig cluster = ClusterConfig.parse(config.members(), config.serverId(), config.host(), config.peerPort());
    DurableState fresh = new DurableState(Ballot.ZERO, new TreeMap<>(), 0, 0, DurableState.Standing.FOUNDING);
    ReplicaLoop loop = new ReplicaLoop(config, cluster, state, new SessionTracker(clock), log, effects,
        clock, new dev.synod.server.pipeline.ClusterTime(clock, state::lastTimeMs), new SplittableRandom(7),
        dev.synod.server.storage.ClusterIdentity.founder(), Optional.empty(), fresh, () -> { }, txn -> { });
    for (int i = 0; i < 100 && !loop.isLeader(); i++) {
      clock.nanos += 10_000_000;
      loop.step(new ReplicaEvent.Tick(clock.nanos));
    }
    assertTrue(loop.isLeader(), "a single member leads itself");
    return loop;
  }

  private Response write(ReplicaLoop loop, String path) throws Exception {
    AtomicReference<Response> answer = new AtomicReference<>();
    Applied applied = (txn, response) -> answer.set(response);
    loop.step(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath(path)),
        applied, clock.nanos + 5_000_000_000L));
    return answer.get();
  }

  /**
   * Status after a write's answer shows that write committed and applied, with no tick between:
   * the view and the applied slot are published together (CI once saw commitSlot 10 beside
   * appliedSlot 11, the view from the last tick next to a live applied slot).
   */
  @Test
  void statusAfterAnAnsweredWriteShowsItCommittedAndApplied() throws Exception {
    ReplicaLoop loop = singleMember();
    for (int i = 0; i < 3; i++) {
      AtomicReference<ReplicaLoop.StatusView> atAnswer = new AtomicReference<>();
      loop.step(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/status" + i)),
          (txn, response) -> atAnswer.set(loop.statusView()), clock.nanos + 5_000_000_000L));
      ReplicaLoop.StatusView view = atAnswer.get();
      assertEquals(loop.appliedSlot(), view.appliedSlot(), "the view is as fresh as the apply when the answer leaves");
      assertEquals(view.appliedSlot(), view.consensus().commitIndex(), "committed through what was applied");
      assertEquals(view.appliedSlot(), view.consensus().lastSlot(), "a lone leader holds what it proposed");
    }
  }

  /** Counts the rounds that made entries durable (each one fsync in the real log). */
  private static final class CountingLog implements ReplicaLog {
    int fsyncs;

    int commitMarks;

    @Override
    public void persist(Replica.Ready ready) {
      if (ready.promised() != null || !ready.entries().isEmpty()) {
        fsyncs++;
      } else if (ready.commitIndex() >= 0) {
        commitMarks++;
      }
    }

    @Override
    public void truncateCoveredBy(long slot) {
      truncations++;
    }

    int truncations;

    @Override
    public void snapshotInstalled(long slot) {}

    @Override
    public void recordClusterIdentity(dev.synod.server.storage.ClusterIdentity identity) {}
  }

  /**
   * The persist stage: while one log write is in flight the loop takes no further Ready, but
   * keeps taking writes; they go out together in the next write once the first is durable, and
   * a write is answered only once it is durable.
   */
  @Test
  void writesArrivingDuringAnFsyncShareTheNextOne() throws Exception {
    CountingLog counting = new CountingLog();
    log = counting;
    ReplicaLoop loop = singleMember();
    effects.staged = true;
    List<AtomicReference<Response>> answers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      AtomicReference<Response> answer = new AtomicReference<>();
      answers.add(answer);
      loop.step(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/p" + i)),
          (txn, response) -> answer.set(response), clock.nanos + 5_000_000_000L));
    }
    assertEquals(1, effects.writes.size(), "one write in flight: the other three wait for it");
    assertNull(answers.get(0).get(), "not answered before its write is durable");
    int fsyncsBefore = counting.fsyncs;
    loop.step(effects.finishOne());
    assertEquals(1, counting.fsyncs - fsyncsBefore);
    assertFalse(answers.get(0).get().hasError(), "durable and decided: answered");
    assertEquals(1, effects.writes.size(), "the three that waited are in the next write, together");
    assertNull(answers.get(1).get());
    loop.step(effects.finishOne());
    while (!effects.writes.isEmpty()) {
      loop.step(effects.finishOne()); // the commit mark, if any
    }
    for (int i = 1; i < 4; i++) {
      assertFalse(answers.get(i).get().hasError(), "write " + i);
    }
    assertEquals(2, counting.fsyncs - fsyncsBefore, "four writes, two fsyncs");
  }

  /**
   * Only what needs an fsync goes to the persist stage: a Ready with nothing but a commit mark is
   * written on the loop (it is never fsynced), so a write costs one round trip to the persist
   * thread, not two, and the next write does not wait behind the mark.
   */
  @Test
  void aCommitMarkAloneIsWrittenWithoutThePersistStage() throws Exception {
    CountingLog counting = new CountingLog();
    log = counting;
    ReplicaLoop loop = singleMember();
    effects.staged = true;
    int marksBefore = counting.commitMarks;
    AtomicReference<Response> answer = new AtomicReference<>();
    loop.step(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/c")),
        (txn, response) -> answer.set(response), clock.nanos + 5_000_000_000L));
    assertEquals(1, effects.writes.size(), "the entry's write is on the persist stage");
    loop.step(effects.finishOne());
    assertFalse(answer.get().hasError(), "durable and decided: answered");
    assertEquals(0, effects.writes.size(), "the commit mark that followed was written on the loop");
    assertEquals(marksBefore + 1, counting.commitMarks, "and it was written");
  }

  /**
   * A follower's acceptance leaves from the persist stage as soon as its write is durable (one
   * thread hand-off less per write), never before: a leader must not count an acceptance that a
   * crash could still lose.
   */
  @Test
  void aFollowersAcceptanceIsSentByThePersistStageOnceDurable() throws Exception {
    ReplicaLoop follower = member2("1=127.0.0.1:7071,2=127.0.0.1:7072,3=127.0.0.1:7073", state,
        dev.synod.server.storage.ClusterIdentity.founder(), DurableState.Standing.VOTER);
    effects.staged = true;
    Ballot ballot = new Ballot(1, 1);
    follower.step(new ReplicaEvent.PeerMessage(1, 0, new dev.synod.consensus.Message.Accept(1, 2, ballot, 0,
        List.of(new dev.synod.consensus.Entry(1, ballot, new byte[0])))));
    assertEquals(1, effects.writes.size(), "the accepted entry is being written");
    assertTrue(effects.sent.stream().noneMatch(m -> m.endsWith("Accepted")), "not before it is durable: " + effects.sent);
    effects.writes.peek().run(); // the persist stage finishes the write: durable
    assertEquals(List.of("1:Accepted"), effects.sent.stream().filter(m -> m.endsWith("Accepted")).toList(),
        "sent by the stage itself, before the loop hears of it");
    effects.writes.poll();
    follower.step(new ReplicaEvent.Persisted(effects.rounds.poll(), null));
    assertEquals(1, effects.sent.stream().filter(m -> m.endsWith("Accepted")).count(), "and only once");
  }

  /** Log upkeep (here a truncation after a snapshot) never overlaps a write in flight. */
  @Test
  void logUpkeepWaitsForTheWriteInFlight() throws Exception {
    CountingLog counting = new CountingLog();
    log = counting;
    ReplicaLoop loop = singleMember("--snapshot-every-txns", "1");
    write(loop, "/u1");
    loop.step(new ReplicaEvent.SnapshotWritten(effects.snapshotWrites.get(0).slot(), true));
    write(loop, "/u2");
    effects.staged = true;
    loop.step(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/u3")),
        (txn, response) -> { }, clock.nanos + 5_000_000_000L));
    assertEquals(1, effects.writes.size());
    // The second kept snapshot makes the log truncatable, while a write is in flight.
    loop.step(new ReplicaEvent.SnapshotWritten(effects.snapshotWrites.get(1).slot(), true));
    assertEquals(0, counting.truncations, "held back while the write is in flight");
    loop.step(effects.finishOne());
    assertEquals(1, counting.truncations, "done once the write is durable");
  }

  /**
   * Group commit: writes that queued up together (while the previous round's fsync ran) are
   * proposed as one batch and made durable with one fsync, not one each; every one is answered.
   */
  @Test
  void writesHandledTogetherShareOneFsync() throws Exception {
    log = new CountingLog();
    ReplicaLoop loop = singleMember();
    int before = ((CountingLog) log).fsyncs;
    long zxidBefore = state.lastZxid();
    List<AtomicReference<Response>> answers = new ArrayList<>();
    List<ReplicaEvent> group = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      AtomicReference<Response> answer = new AtomicReference<>();
      answers.add(answer);
      group.add(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/g" + i)),
          (txn, response) -> answer.set(response), clock.nanos + 5_000_000_000L));
    }
    loop.stepAll(group);
    assertEquals(1, ((CountingLog) log).fsyncs - before, "one fsync for the whole group");
    for (int i = 0; i < 50; i++) {
      Response r = answers.get(i).get();
      assertFalse(r == null || r.hasError(), "write " + i + " answered: " + r);
    }
    assertEquals(zxidBefore + 50, state.lastZxid(), "all 50 applied");
  }

  /** A group after the loop stopped is refused as a whole, each waiter answered. */
  @Test
  void aStoppedLoopRefusesEveryEventOfAGroup() throws Exception {
    ReplicaLoop loop = singleMember();
    loop.stop("test", dev.synod.api.v1.ErrorReason.SHUTTING_DOWN);
    List<Response> answers = new ArrayList<>();
    List<ReplicaEvent> group = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      group.add(new ReplicaEvent.ClientWrite(Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/s" + i)),
          (txn, response) -> answers.add(response), clock.nanos + 5_000_000_000L));
    }
    loop.stepAll(group);
    assertEquals(3, answers.size());
    assertTrue(answers.stream().allMatch(Response::hasError));
  }

  /** Finding 3: a snapshot fetched while this member became leader used to halt it. */
  @Test
  void aLeaderIgnoresASnapshotItFetchedBeforeLeading() throws Exception {
    ReplicaLoop loop = singleMember();
    write(loop, "/a");
    long applied = loop.appliedSlot();
    Snapshot stale = new Snapshot(0, applied + 100, new TreeMap<>(), List.of());
    loop.step(new ReplicaEvent.SnapshotFetched(stale, 0));
    assertNull(loop.stopped());
    assertEquals(applied, loop.appliedSlot(), "not installed");
    assertEquals(1, write(loop, "/b").getZxid() - 1, "still serving writes");
  }

  /**
   * Finding 3: the loop's own snapshot write that the store declined (a newer one was installed
   * meanwhile) completes the job like any other, so the next snapshot is not blocked forever.
   */
  @Test
  void aDeclinedSnapshotWriteStillEndsTheJob() throws Exception {
    ReplicaLoop loop = singleMember("--snapshot-every-txns", "2");
    write(loop, "/a");
    write(loop, "/b");
    assertEquals(1, effects.snapshotWrites.size(), "a snapshot was started");
    write(loop, "/c");
    write(loop, "/d");
    assertEquals(1, effects.snapshotWrites.size(), "one at a time");
    loop.step(new ReplicaEvent.SnapshotWritten(effects.snapshotWrites.get(0).slot(), false));
    write(loop, "/e");
    assertEquals(2, effects.snapshotWrites.size(), "the next one starts");
  }

  /**
   * Finding 6: origins restart at zero with the process. A write proposed by this server's
   * previous incarnation and decided after the restart must not answer a new client's request
   * that happens to get the same counter value.
   */
  @Test
  void anOriginOfAnEarlierIncarnationAnswersNobody() {
    Proposals before = new Proposals(1, 1111, 100);
    Txn.Builder old = Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/old"));
    before.stampOrigin(old);

    Proposals after = new Proposals(1, 2222, 100);
    Txn.Builder fresh = Txn.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/new"));
    after.stampOrigin(fresh);
    assertEquals(old.getOrigin(), fresh.getOrigin(), "the counter restarted");
    List<Response> answers = new ArrayList<>();
    try {
      after.addLocal(fresh.build(), (t, r) -> answers.add(r), Long.MAX_VALUE);
    } catch (dev.synod.server.state.SynodException e) {
      throw new AssertionError(e);
    }
    assertNull(after.takeApplied(old.setZxid(9).build()), "the old incarnation's Txn is not ours");
    assertFalse(after.takeApplied(fresh.setZxid(10).build()) == null, "our own still is");
  }

  // -----------------------------------------------------------------------------------------------
  // Membership

  private MemberChanges.Outcome change(ReplicaLoop loop, MemberChanges.Request r) throws Exception {
    AtomicReference<MemberChanges.Outcome> answer = new AtomicReference<>();
    loop.step(new ReplicaEvent.MemberChange(r, answer::set, clock.nanos + 5_000_000_000L));
    return answer.get();
  }

  /** A loop built on {@code snapshot}, as at a restart (nothing in the log after it). */
  private ReplicaLoop restartedOn(Snapshot snapshot, String... flags) throws Exception {
    ServerConfig config = dev.synod.server.config.ConfigParser.parse(flags);
    ClusterConfig cluster = ClusterConfig.parse(config.members(), config.serverId(), config.host(), config.peerPort());
    DurableState durable = new DurableState(Ballot.ZERO, new TreeMap<>(), snapshot.slot(), snapshot.slot(),
        DurableState.Standing.FOUNDING);
    StateMachine restored = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    return new ReplicaLoop(config, cluster, restored, new SessionTracker(clock), NO_LOG, effects, clock,
        new dev.synod.server.pipeline.ClusterTime(clock, restored::lastTimeMs), new SplittableRandom(8),
        dev.synod.server.storage.ClusterIdentity.founder(), Optional.of(snapshot), durable, () -> { }, txn -> { });
  }

  @Test
  void aDecidedMembershipIsStoredAndARestartOnItsSnapshotKeepsIt() throws Exception {
    ReplicaLoop loop = singleMember();
    long zxidBefore = state.lastZxid();
    MemberChanges.Outcome added = change(loop, MemberChanges.Request.add(2, dev.synod.consensus.Membership.Role.OBSERVER,
        "127.0.0.1:7072"));
    assertEquals(MemberChanges.Code.OK, added.code(), added.toString());
    assertEquals(dev.synod.consensus.Membership.Role.OBSERVER, loop.status().membership().roleOf(2));
    assertEquals(zxidBefore + 1, state.lastZxid(), "stored by one Txn of its own");
    assertEquals(loop.status().membership(), MembersNode.read(state).orElseThrow());
    assertEquals(loop.status().membership(), effects.memberships.get(effects.memberships.size() - 1),
        "the peer links follow it");

    ReplicaLoop restarted = restartedOn(state.snapshot().withSlot(loop.appliedSlot()));
    assertEquals(loop.status().membership(), restarted.replica().membership(),
        "the membership comes back from the snapshot, not from --members");
  }

  @Test
  void aFollowerInstallingASnapshotTakesTheMembershipItCarries() throws Exception {
    ReplicaLoop leader = singleMember();
    change(leader, MemberChanges.Request.add(2, dev.synod.consensus.Membership.Role.LEARNER, "127.0.0.1:7072"));
    write(leader, "/x");
    Snapshot carried = state.snapshot().withSlot(leader.appliedSlot());

    // Server 2 of the static cluster {1, 2}: a follower that has nothing yet.
    StateMachine empty = new StateMachine(StateLimits.defaults(), WatchDispatcher.NONE);
    ReplicaLoop follower = member2("1=127.0.0.1:7071,2=127.0.0.1:7072", empty,
        dev.synod.server.storage.ClusterIdentity.joiner(), DurableState.Standing.FOUNDING);
    assertEquals(List.of(1, 2), follower.replica().membership().voters(), "--members until it knows better");
    follower.step(new ReplicaEvent.SnapshotFetched(carried, 0));
    assertEquals(leader.status().membership(), follower.replica().membership());
    assertEquals(dev.synod.consensus.Membership.Role.LEARNER, follower.replica().membership().roleOf(2));
  }
}
