package dev.synod.server.replication;

import dev.synod.consensus.Membership;
import dev.synod.consensus.Replica;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * An operator's membership changes on the leader: what each request makes of the latest decided
 * membership ({@link #next}), and the callers waiting until their change is decided and applied
 * here (or their leadership transfer has happened). Loop thread only.
 */
public final class MemberChanges {
  /**
   * A learner this many decided slots behind the leader, or fewer, may be promoted: its vote then
   * counts at once, so a voter far behind would slow every commit (or, in a small cluster, stall
   * it) until it caught up.
   */
  static final long PROMOTE_LAG_SLOTS_MAX = 100;
  /** Callers waiting at once; more are refused (a change is in progress anyway). */
  static final int WAITING_MAX = 64;

  public enum Kind { ADD, PROMOTE, REMOVE, TRANSFER }

  /** What the operator asks: {@code role} and {@code address} for ADD only. */
  public record Request(Kind kind, int id, Membership.Role role, String address) {
    public static Request add(int id, Membership.Role role, String address) {
      return new Request(Kind.ADD, id, role, address);
    }

    public static Request of(Kind kind, int id) {
      return new Request(kind, id, null, "");
    }
  }

  public enum Code {
    /** Decided and applied here (a transfer: the target leads). */
    OK,
    /** This server does not lead; {@link Outcome#leaderId} does (-1: none known). */
    NOT_LEADER,
    /** The change breaks a rule; the message says which. */
    REFUSED,
    /** Another change or a transfer is in progress. */
    BUSY,
    /** Not done by the deadline: it may still take effect (list the members to see). */
    TIMEOUT
  }

  /** The answer to a request; {@code membership} is the latest decided one here. */
  public record Outcome(Code code, String message, Membership membership, int leaderId) {}

  /** Why {@link #next} refuses. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private record Waiter(Membership target, int newLeader, Consumer<Outcome> done, long deadlineNanos) {}

  private final List<Waiter> waiting = new ArrayList<>();

  /**
   * The membership {@code r} asks for, from {@code current} (the latest decided), with every
   * member's address filled in ({@code configured}: the addresses of {@code --members}, for a
   * cluster whose membership never changed and so carries none).
   *
   * @param status the leader's status: a learner's lag is its commit index minus the peer's match
   * @throws Refused the request breaks a rule that can be told here (the consensus module checks
   *     the rest: one voter at a time, the leader keeps its vote)
   */
  static Membership next(Membership current, Request r, Replica.Status status, int selfId,
      SortedMap<Integer, String> configured) throws Refused {
    Membership filled = current;
    for (Membership.Member m : current.members().values()) {
      if (m.address().isEmpty() && configured.containsKey(m.id())) {
        filled = filled.with(m.id(), m.role(), configured.get(m.id()));
      }
    }
    if (r.id() < 1 || r.id() > Membership.ID_MAX) {
      throw new Refused("member id must be in 1.." + Membership.ID_MAX + ", got " + r.id());
    }
    Membership.Role role = current.roleOf(r.id());
    switch (r.kind()) {
      case ADD -> {
        if (role != null) {
          throw new Refused("server " + r.id() + " is already a member (" + MembersNode.roleName(role)
              + " at " + filled.addressOf(r.id()) + ")");
        }
        if (r.role() == Membership.Role.VOTER) {
          throw new Refused("a new member joins as a learner (then, caught up, is promoted) or an observer");
        }
        String address = ClusterConfig.checkedAddress("server " + r.id(), r.address());
        for (Membership.Member m : filled.members().values()) {
          if (m.address().equals(address)) {
            throw new Refused("address " + address + " is already server " + m.id() + "'s");
          }
        }
        return filled.with(r.id(), r.role(), address);
      }
      case PROMOTE -> {
        if (role != Membership.Role.LEARNER) {
          throw new Refused("server " + r.id() + " is " + (role == null ? "not a member"
              : "a " + MembersNode.roleName(role)) + ": only a learner can be promoted to voter");
        }
        Long match = status.peerMatch().get(r.id());
        long lag = match == null ? status.commitIndex() : Math.max(0, status.commitIndex() - match);
        if (match == null || lag > PROMOTE_LAG_SLOTS_MAX) {
          throw new Refused("learner " + r.id() + " is " + (match == null ? "not caught up yet (it has"
              + " acknowledged nothing)" : lag + " slots behind") + "; promote it once it is within "
              + PROMOTE_LAG_SLOTS_MAX + " slots of the commit index (see synod members list)");
        }
        return filled.with(r.id(), Membership.Role.VOTER, filled.addressOf(r.id()));
      }
      case REMOVE -> {
        if (role == null) {
          throw new Refused("server " + r.id() + " is not a member");
        }
        if (r.id() == selfId) {
          throw new Refused("server " + r.id() + " is the leader: transfer leadership first (synod leader"
              + " transfer ID), then remove it");
        }
        return filled.without(r.id());
      }
      case TRANSFER -> throw new IllegalArgumentException("a transfer is not a membership");
    }
    throw new IllegalStateException(r.kind().toString());
  }

  /** Whether another caller may wait. */
  boolean hasRoom() {
    return waiting.size() < WAITING_MAX;
  }

  /** {@code done} is answered once {@code target} is applied here, or at the deadline. */
  void awaitMembership(Membership target, Consumer<Outcome> done, long deadlineNanos) {
    waiting.add(new Waiter(target, -1, done, deadlineNanos));
  }

  /** {@code done} is answered once {@code newLeader} leads, or at the deadline. */
  void awaitLeader(int newLeader, Consumer<Outcome> done, long deadlineNanos) {
    waiting.add(new Waiter(null, newLeader, done, deadlineNanos));
  }

  /** A membership was applied here. */
  void applied(Membership m, int leaderId) {
    complete(w -> w.target() != null && w.target().equals(m), m, leaderId,
        "server " + leaderId + " decided " + m);
  }

  /** The leader this server knows changed. */
  void leaderIs(int leaderId, Membership current) {
    complete(w -> w.target() == null && w.newLeader() == leaderId, current, leaderId,
        "server " + leaderId + " leads");
  }

  /** Answers the callers whose deadline passed. */
  void expire(long nowNanos, Membership current, int leaderId) {
    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (nowNanos - w.deadlineNanos() >= 0) {
        it.remove();
        String what = w.target() != null
            ? "the change to " + w.target() + " was not decided in time; it may still be (the latest"
                + " decided membership is " + current + ")"
            : "server " + w.newLeader() + " did not take over in time (the leader is "
                + (leaderId < 0 ? "unknown" : "server " + leaderId) + ")";
        w.done().accept(new Outcome(Code.TIMEOUT, what, current, leaderId));
      }
    }
  }

  /** The loop stopped: every caller is answered. */
  void failAll(String why, Membership current, int leaderId) {
    for (Waiter w : waiting) {
      w.done().accept(new Outcome(Code.TIMEOUT, why, current, leaderId));
    }
    waiting.clear();
  }

  private void complete(java.util.function.Predicate<Waiter> matches, Membership current, int leaderId,
      String message) {
    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (matches.test(w)) {
        it.remove();
        w.done().accept(new Outcome(Code.OK, message, current, leaderId));
      }
    }
  }
}
