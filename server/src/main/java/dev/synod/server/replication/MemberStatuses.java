package dev.synod.server.replication;

import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberStatus;
import dev.synod.api.v1.StatusResponse;
import dev.synod.consensus.Membership;
import dev.synod.consensus.Replica;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster part of Status and ListMembers, from the consensus module's view: every member of
 * the latest decided membership known here, its role and peer address, and (on the leader) how
 * far it has acknowledged.
 */
public final class MemberStatuses {
  private MemberStatuses() {}

  /** Every member, as {@code s} and {@code directory} know it. */
  public static List<MemberStatus> members(Replica.Status s, MemberDirectory directory) {
    List<MemberStatus> out = new ArrayList<>();
    for (Membership.Member member : s.membership().members().values()) {
      int id = member.id();
      String address = member.address().isEmpty() ? directory.address(id) : member.address();
      MemberStatus.Builder m = MemberStatus.newBuilder().setId(id).setAddress(address)
          .setRole(MembersNode.roleName(member.role()));
      Long match = s.peerMatch().get(id);
      if (match == null && id == directory.selfId() && s.leaderId() == id) {
        match = s.lastSlot(); // the leader holds everything it has proposed
      }
      if (match != null) {
        m.setMatchSlot(match).setLagSlots(Math.max(0, s.commitIndex() - match));
      }
      out.add(m.build());
    }
    return out;
  }

  /** Fills the cluster part of a Status answer; nothing before the loop's first tick. */
  static void describe(StatusResponse.Builder out, Replica.Status s, long appliedSlot, MemberDirectory directory) {
    if (s == null) {
      return;
    }
    out.setRole(s.role())
        .setLeaderId(Math.max(0, s.leaderId()))
        .setBallot(s.ballot().round() + "." + s.ballot().node())
        .setCommitSlot(s.commitIndex())
        .setAppliedSlot(appliedSlot)
        .addAllMembers(members(s, directory));
  }

  /** The answer to ListMembers. */
  static ListMembersResponse list(int selfId, Replica.Status s, MemberDirectory directory) {
    ListMembersResponse.Builder out = ListMembersResponse.newBuilder().setMemberId(selfId);
    if (s != null) {
      out.setLeaderId(Math.max(0, s.leaderId())).setCommitSlot(s.commitIndex())
          .addAllMembers(members(s, directory));
    }
    return out.build();
  }
}
