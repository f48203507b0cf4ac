package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.api.v1.AddMemberRequest;
import dev.synod.api.v1.ListMembersRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.MemberRequest;
import dev.synod.api.v1.MemberStatus;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code members list|add|promote|remove}: the cluster's membership (the Admin calls). Changes are
 * made on the leader, found among --servers; each returns once it is decided. Growing a cluster:
 * start the new server (--members listing the members and itself, --initial-cluster-state
 * existing, an empty data directory), {@code add} it as a learner, wait until its lag is small,
 * {@code promote} it. Removing the leader hands its leadership to the most caught-up voter first.
 */
@Command(name = "members", description = "List or change the cluster's members.",
    subcommands = {MembersCommand.ListMembers.class, MembersCommand.Add.class, MembersCommand.Promote.class,
        MembersCommand.Remove.class})
final class MembersCommand implements Callable<Integer> {
  @ParentCommand
  SynodCli root;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "members needs a command: list, add, promote or remove");
  }

  /** What every members command shares: the deadline and the output. */
  abstract static class Sub implements Callable<Integer> {
    @ParentCommand
    MembersCommand parent;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
        description = "How long the change may take, waiting for a leader included (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    AdminCalls calls() {
      return new AdminCalls(AdminCalls.NodeCommandContext.of(parent.root), timeout);
    }

    Integer show(ListMembersResponse r) {
      MembersCommand.show(parent.root.printer(), r);
      return ExitCodes.OK;
    }
  }

  @Command(name = "list", description = "Show each member's id, role, peer address and lag (the leader's view).")
  static final class ListMembers extends Sub {
    @Override
    public Integer call() {
      try (AdminCalls calls = calls()) {
        return show(calls.list());
      }
    }
  }

  @Command(name = "add", description = {"Add a server as a learner (or, with --observer, a non-voting observer).",
      "Start it first: --members listing the members and itself, --initial-cluster-state existing."})
  static final class Add extends Sub {
    @Parameters(index = "0", paramLabel = "ID", description = "The new member's id (1..63).")
    int id;

    @Parameters(index = "1", paramLabel = "ADDRESS", description = "Its peer address, host:port.")
    String address;

    @Option(names = "--observer", description = "A member that never votes (read scaling, remote sites).")
    boolean observer;

    @Override
    public Integer call() {
      try (AdminCalls calls = calls()) {
        return show(calls.change(stub -> stub.addMember(AddMemberRequest.newBuilder().setId(id)
            .setAddress(address).setObserver(observer).build())));
      }
    }
  }

  @Command(name = "promote", description = "Make a learner that has caught up a voter.")
  static final class Promote extends Sub {
    @Parameters(index = "0", paramLabel = "ID", description = "The learner's id.")
    int id;

    @Override
    public Integer call() {
      try (AdminCalls calls = calls()) {
        return show(calls.change(stub -> stub.promoteMember(MemberRequest.newBuilder().setId(id).build())));
      }
    }
  }

  @Command(name = "remove", description = {"Remove a member. If it leads, its leadership goes to the most",
      "caught-up other voter first."})
  static final class Remove extends Sub {
    @Parameters(index = "0", paramLabel = "ID", description = "The member's id.")
    int id;

    @Override
    public Integer call() {
      try (AdminCalls calls = calls()) {
        ListMembersResponse now = calls.change(stub -> stub.listMembers(ListMembersRequest.getDefaultInstance()));
        if (now.getLeaderId() == id) {
          int target = successor(now, id);
          if (target == 0) {
            throw new CliException(ExitCodes.ERROR, "server " + id + " leads and is the only voter: it cannot be removed");
          }
          parent.root.printer().line("server " + id + " leads: handing leadership to server " + target + " first");
          calls.change(stub -> stub.transferLeader(MemberRequest.newBuilder().setId(target).build()));
        }
        return show(calls.change(stub -> stub.removeMember(MemberRequest.newBuilder().setId(id).build())));
      }
    }
  }

  /** The voter other than {@code leaving} with the least lag, or 0 if there is none. */
  static int successor(ListMembersResponse r, int leaving) {
    MemberStatus best = null;
    for (MemberStatus m : r.getMembersList()) {
      if (m.getId() != leaving && m.getRole().equals("voter")
          && (best == null || m.getMatchSlot() > best.getMatchSlot())) {
        best = m;
      }
    }
    return best == null ? 0 : best.getId();
  }

  static void show(Printer p, ListMembersResponse r) {
    if (p.json()) {
      JsonObject out = new JsonObject();
      out.addProperty("leader_id", r.getLeaderId());
      out.addProperty("answered_by", r.getMemberId());
      out.addProperty("commit_slot", r.getCommitSlot());
      JsonArray members = new JsonArray();
      boolean leaderView = r.getLeaderId() != 0 && r.getLeaderId() == r.getMemberId();
      for (MemberStatus m : r.getMembersList()) {
        JsonObject o = new JsonObject();
        o.addProperty("id", m.getId());
        o.addProperty("role", m.getRole());
        o.addProperty("peer_address", m.getAddress());
        o.addProperty("leader", m.getId() == r.getLeaderId());
        if (leaderView) {
          o.addProperty("match_slot", m.getMatchSlot());
          o.addProperty("lag_slots", m.getLagSlots());
        }
        members.add(o);
      }
      out.add("members", members);
      p.json(out);
      return;
    }
    boolean leaderView = r.getLeaderId() != 0 && r.getLeaderId() == r.getMemberId();
    String format = "%-4s %-9s %-24s %-7s %s";
    p.line(String.format(format, "id", "role", "peer address", "leader", leaderView ? "lag_slots" : "lag_slots (ask the leader)"));
    for (MemberStatus m : r.getMembersList()) {
      p.line(String.format(format, m.getId(), m.getRole(), m.getAddress(), m.getId() == r.getLeaderId() ? "*" : "",
          leaderView ? Long.toString(m.getLagSlots()) : "-"));
    }
  }
}
