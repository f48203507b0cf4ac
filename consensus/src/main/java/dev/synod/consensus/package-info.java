/**
 * Multi-Paxos as a deterministic, I/O-free state machine. Inputs go in ({@code tick},
 * {@code step}, {@code propose}, {@code requestRead}, {@code compact}, {@code snapshotInstalled});
 * an explicit output comes out ({@link dev.synod.consensus.Replica.Ready}): what to persist, what
 * to send, what is decided, which reads may be answered. No threads, sockets, files, clocks or
 * ambient randomness (a build rule, {@code DeterminismRuleTest}, enforces it).
 *
 * <h2>The driver's contract</h2>
 * One thread owns a {@link dev.synod.consensus.Replica}. It calls {@code tick()} every tick,
 * {@code step(m)} for every decoded peer message, and then, while {@code hasReady()}:
 * <ol>
 *   <li>{@code Ready r = ready()};
 *   <li>persist {@code r.promised()} (if non-null), {@code r.entries()} and {@code r.commitIndex()}
 *       (if not -1) durably, with one fsync. If this fails the node must stop: a replica must never
 *       act on state it could not persist;
 *   <li>send {@code r.messages()} (encoded with {@link dev.synod.consensus.MessageCodec}); delivery
 *       is best effort, the protocol retransmits;
 *   <li>apply {@code r.committed()} in order (skipping slots it already applied);
 *   <li>answer {@code r.reads()} once its applied slot reaches each read's index; start a
 *       snapshot fetch from {@code leaderId()} if {@code r.snapshotNeeded() >= 0};
 *   <li>{@code advance()}.
 * </ol>
 * The order matters: a reply is sent only after the promise or acceptance it reports is durable,
 * and the replica counts its own promise/acceptance only at {@code advance()}. A crash anywhere
 * before persisting loses that Ready entirely, which is safe because nothing in it left the node.
 * {@code ready()} must not be called twice without {@code advance()} in between.
 *
 * <h2>Recovery</h2>
 * A new Replica is built from the {@link dev.synod.consensus.DurableState} the driver recovered:
 * the latest promise, the latest accepted entry per slot above the snapshot, the durable commit
 * marker and the snapshot slot. The first Ready hands out the committed entries again from the
 * snapshot slot + 1 (skip what is already applied).
 *
 * <p>{@code standing} must be {@code VOTER} iff a non-null {@code Ready.promised} was ever
 * persisted in this data directory. Entries and commit markers persisted while fresh (catching up)
 * do not count; a new or wiped directory is fresh: {@code FOUNDING} if the operator created it for
 * a new cluster (and the cluster is not known to have started: the server keeps that mark until it
 * knows its cluster's id), else {@code JOINING}. A fresh replica does not vote (promise, accept,
 * campaign) until it has seen, after it started, a slot named by an active leader decided in that
 * leader's ballot and has caught up to it (so nothing its earlier incarnation voted for can be
 * missing), or until, founding a brand-new cluster, a majority of members is founding with nothing
 * and no member has a history. It then emits a non-null {@code promised} (possibly
 * {@link dev.synod.consensus.Ballot#ZERO}). With three replicas this keeps one wiped disk safe
 * while the others are intact; with five or more, no rule can if the wiped replica's vote decided
 * something the others have not all durably committed. No rule can tell a new cluster from one
 * whose majority lost its disks either: that is why only founding members bootstrap.
 *
 * <p>A founding replica with the bootstrap evidence keeps answering "founding with nothing" until
 * every member has answered it and none has probed it for electionTicksMin + 2 heartbeats (at most
 * 10 electionTicksMax after the evidence), so every member started with it bootstraps too. A
 * replica that misses it (it started later) joins through a live leader; until it has, a
 * three-replica cluster cannot survive losing that leader, since the fresh one cannot vote.
 *
 * <h2>Elections: pre-vote and leader stickiness</h2>
 * A replica whose election timer expires first pre-votes (Raft thesis section 9.6): it asks every
 * member whether it would promise the ballot phase 1 would use, given its commit index. Nothing
 * durable changes and no ballot rises. A member grants iff it votes (a fresh replica neither
 * pre-votes nor grants), it does not lead, the candidate's commit index is at least its own (rule
 * P1b would refuse the Prepare otherwise), and it has not heard from a live leader for
 * electionTicksMin (leader stickiness). Only with a majority of grants, itself included, does the
 * replica raise its ballot above every promise it heard of and start phase 1; a cluster of one
 * grants itself a majority. A replica refused because it is behind stays a follower and catches up
 * from the one ahead (any replica serves decided entries); a candidate whose Prepare is refused by
 * a replica ahead on commits steps down the same way. So a replica that is behind never raises the
 * bar over one that is up to date, and one that was cut off, restarted, or has a flapping link
 * cannot depose a leader the others still hear. A replica in pre-vote reports role "follower".
 *
 * <h2>Membership</h2>
 * Who votes is itself decided in the log ({@link dev.synod.consensus.Membership}: voters,
 * learners, observers, each with the driver's address). {@code proposeMembership} on the leader
 * proposes one as a slot value; decided at slot i it governs every slot after i (the configured
 * {@code ReplicaConfig.members} are the voters until then, and a snapshot carries the one in force
 * at its slot: {@code DurableState.membership}, {@code snapshotInstalled(slot, membership)}). The
 * rules that keep it safe: voters change one at a time (a member joins as a learner, catches up,
 * and is promoted; one voter is removed), so consecutive majorities intersect; the leader proposes
 * nothing after a membership until it is decided; and a candidate's phase 1 needs, beyond a
 * majority of the latest membership it knows decided, a majority of every membership among the
 * values it will re-propose, for the slots after it. A change also needs every voter it leaves to
 * have acknowledged the leader within an election timeout (a fresh or unreachable voter could
 * leave no quorum), and the leader cannot remove itself: {@code transferLeadership} hands over first
 * (TimeoutNow: the target, caught up, campaigns at once). Learners and observers receive every
 * Accept and heartbeat but never count, campaign or grant; a removed member hears of its removal
 * for a while and then nothing.
 *
 * <h2>Snapshots</h2>
 * After durably snapshotting its state through slot s (at most what it applied), the driver calls
 * {@code compact(s)}; requests for compacted slots are answered with SnapshotRequired. After
 * installing a snapshot fetched from {@code snapshotSource()} (the leader, or with no leader
 * known the member that said the entries are compacted) it calls {@code snapshotInstalled(s, m)}.
 */
package dev.synod.consensus;
