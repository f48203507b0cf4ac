package dev.synod.server.replication;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.Response;
import dev.synod.consensus.Membership;
import dev.synod.server.state.Paths;
import dev.synod.server.state.StateMachine;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The membership as the system node {@link Paths#MEMBERS} stores it: one member a line, "ID ROLE
 * ADDRESS" (ROLE voter, learner or observer), by id. Text, so an operator can read it with
 * {@code synod get /synod/members}; the snapshot and backup formats carry it as any node.
 */
public final class MembersNode {
  private MembersNode() {}

  public static byte[] encode(Membership m) {
    StringBuilder s = new StringBuilder();
    for (Membership.Member member : m.members().values()) {
      s.append(member.id()).append(' ').append(roleName(member.role())).append(' ')
          .append(member.address().isEmpty() ? "-" : member.address()).append('\n');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses what {@link #encode} made.
   *
   * @throws IllegalArgumentException naming the line, for anything else
   */
  public static Membership decode(byte[] data) {
    TreeMap<Integer, Membership.Member> members = new TreeMap<>();
    String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      String[] f = lines[i].trim().split(" ");
      if (f.length != 3) {
        throw new IllegalArgumentException(Paths.MEMBERS + " line " + (i + 1) + ": '" + lines[i]
            + "' is not 'ID ROLE ADDRESS'");
      }
      int id;
      try {
        id = Integer.parseInt(f[0]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(Paths.MEMBERS + " line " + (i + 1) + ": id '" + f[0] + "' is not a number");
      }
      Membership.Member m = new Membership.Member(id, role(f[1]), f[2].equals("-") ? "" : f[2]);
      if (members.put(id, m) != null) {
        throw new IllegalArgumentException(Paths.MEMBERS + ": member " + id + " twice");
      }
    }
    return new Membership(members);
  }

  /** The membership stored in {@code state}, if one was ever decided (or a backup carried one). */
  public static Optional<Membership> read(StateMachine state) {
    AtomicReference<Response> answer = new AtomicReference<>();
    state.read(0, Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(Paths.MEMBERS)).build(),
        answer::set);
    Response r = answer.get();
    if (r == null || r.hasError() || !r.hasGetData()) {
      return Optional.empty();
    }
    ByteString data = r.getGetData().getData();
    return data.isEmpty() ? Optional.empty() : Optional.of(decode(data.toByteArray()));
  }

  public static String roleName(Membership.Role role) {
    return role.name().toLowerCase(Locale.ROOT);
  }

  public static Membership.Role role(String name) {
    for (Membership.Role r : Membership.Role.values()) {
      if (roleName(r).equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("role '" + name + "' is not voter, learner or observer");
  }
}
