package dev.synod.consensus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One replica's settings. Times are in ticks (the driver decides how long a tick is).
 *
 * @param selfId this replica's id (0..{@link Membership#ID_MAX})
 * @param members the voters until a membership is decided in the log or carried by a snapshot
 *     (kept sorted; ids 0..{@link Membership#ID_MAX}); a member joining a running cluster need
 *     not be among them
 * @param electionTicksMin a follower that hears no leader for a random time in
 *     [electionTicksMin, electionTicksMax] campaigns
 * @param electionTicksMax see electionTicksMin
 * @param heartbeatTicks the leader's heartbeat interval; below electionTicksMin
 * @param inflightSlotsMax the most undecided slots a leader has at once (pipelining limit)
 * @param catchupEntriesMax the most entries in one CatchupReply, and the slot window one Promise covers
 * @param messageEntriesMax the most entries in one Accept (batching limit)
 */
public record ReplicaConfig(
    int selfId,
    List<Integer> members,
    int electionTicksMin,
    int electionTicksMax,
    int heartbeatTicks,
    int inflightSlotsMax,
    int catchupEntriesMax,
    int messageEntriesMax) {
  /** Acknowledgements are tracked in a 64-bit mask per slot. */
  public static final int MEMBERS_MAX = 64;

  public ReplicaConfig {
    if (selfId < 0 || selfId > Membership.ID_MAX) {
      throw new IllegalArgumentException("selfId must be in 0.." + Membership.ID_MAX + ", got " + selfId);
    }
    if (members == null || members.isEmpty() || members.size() > MEMBERS_MAX) {
      throw new IllegalArgumentException("members must list 1.." + MEMBERS_MAX + " ids, got " + members);
    }
    List<Integer> sorted = new ArrayList<>(members);
    Collections.sort(sorted);
    for (int i = 0; i < sorted.size(); i++) {
      if (sorted.get(i) < 0 || sorted.get(i) > Membership.ID_MAX
          || (i > 0 && sorted.get(i).equals(sorted.get(i - 1)))) {
        throw new IllegalArgumentException("members must be distinct ids in 0.." + Membership.ID_MAX
            + ", got " + members);
      }
    }
    members = List.copyOf(sorted);
    require(electionTicksMin >= 1, "electionTicksMin must be >= 1, got " + electionTicksMin);
    require(electionTicksMax >= electionTicksMin,
        "electionTicksMax must be >= electionTicksMin, got " + electionTicksMax);
    require(electionTicksMax <= 1_000_000, "electionTicksMax must be <= 1000000, got " + electionTicksMax);
    require(heartbeatTicks >= 1 && heartbeatTicks < electionTicksMin,
        "heartbeatTicks must be >= 1 and below electionTicksMin, got " + heartbeatTicks);
    require(inflightSlotsMax >= 1, "inflightSlotsMax must be >= 1, got " + inflightSlotsMax);
    require(catchupEntriesMax >= 1, "catchupEntriesMax must be >= 1, got " + catchupEntriesMax);
    require(messageEntriesMax >= 1, "messageEntriesMax must be >= 1, got " + messageEntriesMax);
  }

  /** Elections after 10 to 20 ticks, heartbeats every 2, 256 slots in flight, 256 entries per catch-up reply, 64 per Accept. */
  public static ReplicaConfig of(int selfId, List<Integer> members) {
    return new ReplicaConfig(selfId, members, 10, 20, 2, 256, 256, 64);
  }

  /** A majority of the members. */
  public int quorum() {
    return members.size() / 2 + 1;
  }

  /** The member's position in {@link #members()}, or -1 if it is not a member. */
  public int indexOf(int id) {
    int i = Collections.binarySearch(members, id);
    return i >= 0 ? i : -1;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
