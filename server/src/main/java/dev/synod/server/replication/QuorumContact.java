package dev.synod.server.replication;

import dev.synod.consensus.Ballot;
import dev.synod.consensus.Message;
import java.util.Arrays;
import java.util.List;

/**
 * When a majority of the cluster, this server included, last acknowledged it as leader, on this
 * server's monotonic clock. It watches the consensus messages the driver sends and receives: a
 * peer's HeartbeatAck of a round (or its Promise of our ballot) shows it followed us at some time
 * after we sent that round (or our first Prepare), so that send time is credited to it.
 *
 * <p>Why it matters (a leader lease, as in Chubby or etcd's CheckQuorum): a leader of a higher
 * ballot needs a majority's promises, and that majority shares a member with ours, who answered
 * us before promising it. So no other leader was elected before the quorum contact, and one
 * elected later starts every session afresh, with a full timeout. A leader cut off from the
 * majority may therefore vouch for a session only up to its quorum contact plus the session
 * timeout.
 *
 * <p>Updated on the consensus thread; {@link #contactNanos} may be read from any thread.
 */
final class QuorumContact {
  /** Heartbeat rounds remembered with their send time; an ack of an older round earns nothing. */
  static final int ROUNDS_KEPT = 256;
  private static final long NEVER = Long.MIN_VALUE;

  private final int selfId;
  /** The voters (learners and observers are not part of a quorum). */
  private List<Integer> members;
  private int selfIndex;
  private int quorum;
  private Ballot ballot;
  private long prepareSentNanos = NEVER;
  private final long[] rounds = new long[ROUNDS_KEPT];
  private final long[] roundSentNanos = new long[ROUNDS_KEPT];
  private int roundCount; // entries used, the newest at (roundCount - 1) % ROUNDS_KEPT
  private long[] peerContactNanos;
  private volatile long contactNanos = NEVER;

  /** {@code members}: the voters. */
  QuorumContact(List<Integer> members, int selfId) {
    this.selfId = selfId;
    this.members = List.copyOf(members);
    this.selfIndex = this.members.indexOf(selfId);
    this.quorum = this.members.size() / 2 + 1;
    this.peerContactNanos = new long[this.members.size()];
    Arrays.fill(peerContactNanos, NEVER);
  }

  /**
   * The voters changed (a membership was decided). Each voter keeps the contact it earned; the
   * quorum contact is computed again over the new voters only, so it never credits a majority
   * that the new membership would not count.
   */
  void voters(List<Integer> voters) {
    if (voters.equals(members)) {
      return;
    }
    long[] before = peerContactNanos;
    List<Integer> old = members;
    members = List.copyOf(voters);
    selfIndex = members.indexOf(selfId);
    quorum = members.size() / 2 + 1;
    peerContactNanos = new long[members.size()];
    Arrays.fill(peerContactNanos, NEVER);
    for (int i = 0; i < members.size(); i++) {
      int at = old.indexOf(members.get(i));
      if (at >= 0) {
        peerContactNanos[i] = before[at];
      }
    }
    contactNanos = NEVER;
    recompute();
  }

  /** A message this server sent at {@code nowNanos}. */
  void sent(Message m, long nowNanos) {
    if (m instanceof Message.Prepare p) {
      startBallot(p.ballot());
      if (prepareSentNanos == NEVER) {
        prepareSentNanos = nowNanos; // the first one: a Promise may answer any of them
      }
    } else if (m instanceof Message.Heartbeat h) {
      startBallot(h.ballot());
      long newest = roundCount == 0 ? -1 : rounds[(roundCount - 1) % ROUNDS_KEPT];
      if (h.round() > newest) {
        rounds[roundCount % ROUNDS_KEPT] = h.round();
        roundSentNanos[roundCount % ROUNDS_KEPT] = nowNanos;
        roundCount++;
      }
    }
  }

  /** A message this server received (whether or not consensus took it). */
  void received(Message m) {
    if (m instanceof Message.HeartbeatAck a && a.ballot().equals(ballot)) {
      credit(a.from(), sentTimeOfRound(a.round()));
    } else if (m instanceof Message.Promise p && p.ballot().equals(ballot)) {
      credit(p.from(), prepareSentNanos);
    }
  }

  /**
   * How long ago a majority last acknowledged this server's current ballot (this server counts
   * itself as always in touch); {@link Long#MAX_VALUE} if never. Meaningful only while leading.
   */
  long ageNanos(long nowNanos) {
    if (quorum <= 1) {
      return 0; // a cluster of one
    }
    long contact = contactNanos;
    return contact == NEVER ? Long.MAX_VALUE : Math.max(0, nowNanos - contact);
  }

  private void startBallot(Ballot b) {
    if (b.equals(ballot)) {
      return;
    }
    ballot = b;
    prepareSentNanos = NEVER;
    roundCount = 0;
    Arrays.fill(peerContactNanos, NEVER);
    contactNanos = NEVER;
  }

  /** The send time of {@code round}, or NEVER if it is not among those remembered. */
  private long sentTimeOfRound(long round) {
    int kept = Math.min(roundCount, ROUNDS_KEPT);
    for (int i = 1; i <= kept; i++) {
      int at = (roundCount - i) % ROUNDS_KEPT;
      if (rounds[at] == round) {
        return roundSentNanos[at];
      }
      if (rounds[at] < round) {
        return NEVER; // never sent by us in this ballot
      }
    }
    return NEVER;
  }

  private void credit(int from, long sentNanos) {
    int index = members.indexOf(from);
    if (sentNanos == NEVER || index < 0 || index == selfIndex) {
      return;
    }
    if (peerContactNanos[index] == NEVER || sentNanos - peerContactNanos[index] > 0) {
      peerContactNanos[index] = sentNanos;
    }
    recompute();
  }

  /** The quorum-th latest contact, counting ourselves (if a voter) as the latest of all. */
  private void recompute() {
    int own = selfIndex >= 0 ? 1 : 0;
    int needed = quorum - own; // peers' contacts needed beyond our own
    if (needed <= 0) {
      return; // a cluster of one
    }
    long[] peers = new long[members.size() - own];
    int n = 0;
    for (int i = 0; i < members.size(); i++) {
      if (i != selfIndex) {
        peers[n++] = peerContactNanos[i];
      }
    }
    if (peers.length < needed) {
      return;
    }
    Arrays.sort(peers); // NEVER sorts first
    long quorumth = peers[peers.length - needed];
    if (quorumth != NEVER && (contactNanos == NEVER || quorumth - contactNanos > 0)) {
      contactNanos = quorumth;
    }
  }
}
