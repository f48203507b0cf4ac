package dev.synod.tools.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.synod.api.v1.MemberStatus;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code status}: asks every server of the connect string for its Status (the unary RPC, no
 * session) and shows the cluster: each server's role, the leader, applied position and the lag
 * the leader sees for each member.
 */
@Command(name = "status", description = "Show the cluster: each server's role, the leader, and each member's lag.")
final class StatusCommand extends NodeCommand {
  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "2s", converter = DurationConverter.class,
      description = "How long to wait for each server (default: ${DEFAULT-VALUE}).")
  java.time.Duration timeout;

  /** One server's answer, or why there is none. */
  record Probe(String address, StatusResponse status, String error) {}

  @Override
  public Integer call() {
    CliContext.Settings s = ctx().settings();
    String servers = s != null ? s.servers() : root.servers;
    ChannelCredentials credentials = (s != null ? s.tls() : new CliContext.Tls(root.tlsCa, root.tlsCert, root.tlsKey))
        .credentials();
    List<Probe> probes = new ArrayList<>();
    for (String address : addresses(servers)) {
      probes.add(probe(address, credentials));
    }
    StatusResponse leader = probes.stream().map(Probe::status)
        .filter(st -> st != null && st.getLeaderId() != 0 && st.getLeaderId() == st.getServerId())
        .findFirst().orElse(null);
    Printer p = printer();
    if (p.json()) {
      p.json(json(probes, leader));
    } else {
      text(p, probes, leader);
    }
    boolean anyUp = probes.stream().anyMatch(pr -> pr.status() != null);
    if (!anyUp) {
      throw new CliException(ExitCodes.UNAVAILABLE, "no server of " + servers + " answered");
    }
    return ExitCodes.OK;
  }

  static List<String> addresses(String servers) {
    List<String> out = new ArrayList<>();
    for (String part : servers.split(",")) {
      String a = part.strip();
      if (a.isEmpty()) {
        continue;
      }
      int colon = a.lastIndexOf(':');
      if (colon <= 0 || colon == a.length() - 1 || !a.substring(colon + 1).chars().allMatch(Character::isDigit)) {
        throw CliException.usage("bad server address '" + a + "' (expected host:port)");
      }
      out.add(a);
    }
    if (out.isEmpty()) {
      throw CliException.usage("--servers names no server");
    }
    return out;
  }

  private Probe probe(String address, ChannelCredentials credentials) {
    int colon = address.lastIndexOf(':');
    ManagedChannel ch = Grpc.newChannelBuilderForAddress(address.substring(0, colon),
        Integer.parseInt(address.substring(colon + 1)), credentials).build();
    try {
      StatusResponse r = SynodGrpc.newBlockingStub(ch).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .status(StatusRequest.getDefaultInstance());
      return new Probe(address, r, null);
    } catch (StatusRuntimeException e) {
      return new Probe(address, null, e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
          ? "unreachable" : e.getStatus().getCode() + ": " + e.getStatus().getDescription());
    } finally {
      ch.shutdownNow();
    }
  }

  /** The lag the leader reports for {@code serverId}, or -1 if unknown. */
  private static long lag(StatusResponse leader, int serverId) {
    if (leader == null) {
      return -1;
    }
    for (MemberStatus m : leader.getMembersList()) {
      if (m.getId() == serverId) {
        return m.getLagSlots();
      }
    }
    return -1;
  }

  private static void text(Printer p, List<Probe> probes, StatusResponse leader) {
    String format = "%-22s %-3s %-10s %-7s %-10s %s";
    p.line(String.format(format, "server", "id", "role", "leader", "last_zxid", "applied_slot"));
    for (Probe pr : probes) {
      StatusResponse st = pr.status();
      if (st == null) {
        p.line(String.format("%-22s %s", pr.address(), pr.error()));
        continue;
      }
      p.line(String.format(format, pr.address(), st.getServerId(), st.getRole(),
          st.getLeaderId() == 0 ? "-" : st.getLeaderId(), st.getLastZxid(), st.getAppliedSlot()));
    }
    if (leader == null) {
      p.line("no leader among the servers that answered");
      return;
    }
    p.line("");
    p.line(String.format("leader %d: ballot %s, commit slot %d, %d nodes, %d sessions, %d watches, version %s",
        leader.getServerId(), leader.getBallot(), leader.getCommitSlot(), leader.getNodeCount(),
        leader.getSessionCount(), leader.getWatchCount(), leader.getVersion()));
    String members = "%-7s %-9s %-22s %-11s %s";
    p.line(String.format(members, "member", "role", "peer address", "match_slot", "lag_slots"));
    for (MemberStatus m : leader.getMembersList()) {
      p.line(String.format(members, m.getId(), m.getRole(), m.getAddress(), m.getMatchSlot(), m.getLagSlots()));
    }
  }

  private static JsonObject json(List<Probe> probes, StatusResponse leader) {
    JsonArray servers = new JsonArray();
    for (Probe pr : probes) {
      JsonObject o = new JsonObject();
      o.addProperty("address", pr.address());
      StatusResponse st = pr.status();
      o.addProperty("reachable", st != null);
      if (st == null) {
        o.addProperty("error", pr.error());
      } else {
        o.addProperty("server_id", st.getServerId());
        o.addProperty("role", st.getRole());
        o.addProperty("leader_id", st.getLeaderId());
        o.addProperty("ballot", st.getBallot());
        o.addProperty("last_zxid", st.getLastZxid());
        o.addProperty("commit_slot", st.getCommitSlot());
        o.addProperty("applied_slot", st.getAppliedSlot());
        long lag = lag(leader, st.getServerId());
        if (lag >= 0) {
          o.addProperty("lag_slots", lag);
        } else {
          o.add("lag_slots", null);
        }
        o.addProperty("node_count", st.getNodeCount());
        o.addProperty("session_count", st.getSessionCount());
        o.addProperty("watch_count", st.getWatchCount());
        o.addProperty("uptime_ms", st.getUptimeMs());
        o.addProperty("version", st.getVersion());
      }
      servers.add(o);
    }
    JsonObject out = new JsonObject();
    out.add("servers", servers);
    if (leader != null) {
      out.addProperty("leader_id", leader.getServerId());
      JsonArray members = new JsonArray();
      for (MemberStatus m : leader.getMembersList()) {
        JsonObject mo = new JsonObject();
        mo.addProperty("id", m.getId());
        mo.addProperty("role", m.getRole());
        mo.addProperty("peer_address", m.getAddress());
        mo.addProperty("match_slot", m.getMatchSlot());
        mo.addProperty("lag_slots", m.getLagSlots());
        members.add(mo);
      }
      out.add("members", members);
    } else {
      out.add("leader_id", null);
    }
    return out;
  }
}
