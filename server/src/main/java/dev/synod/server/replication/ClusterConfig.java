package dev.synod.server.replication;

import dev.synod.consensus.Membership;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Static membership: every server's id and peer address. Parsed from {@code --members
 * 1=host:port,2=host:port,...}; without members a server is a cluster of one.
 */
public record ClusterConfig(int selfId, SortedMap<Integer, String> peerAddresses) {
  public static final int MEMBERS_MAX = 9;
  /** The highest member id (see {@link Membership#ID_MAX}). */
  public static final int ID_MAX = Membership.ID_MAX;

  public ClusterConfig {
    peerAddresses = Collections.unmodifiableSortedMap(new TreeMap<>(peerAddresses));
    if (!peerAddresses.containsKey(selfId)) {
      throw new IllegalArgumentException("members (ids " + peerAddresses.keySet() + ") must include"
          + " this server's id " + selfId + " (--server-id)");
    }
    if (peerAddresses.size() > MEMBERS_MAX) {
      throw new IllegalArgumentException("at most " + MEMBERS_MAX + " members");
    }
  }

  /** Parses the members setting; an empty one is a cluster of one at host:peerPort. */
  public static ClusterConfig parse(String members, int selfId, String host, int peerPort) {
    SortedMap<Integer, String> addresses = new TreeMap<>();
    if (members == null || members.isBlank()) {
      addresses.put(selfId, host + ":" + peerPort);
      return new ClusterConfig(selfId, addresses);
    }
    for (String part : members.split(",")) {
      String item = part.trim();
      int eq = item.indexOf('=');
      if (eq <= 0 || eq == item.length() - 1 || item.lastIndexOf(':') < eq) {
        throw new IllegalArgumentException(
            "members: '" + item + "' is not id=host:port (e.g. 1=127.0.0.1:7071)");
      }
      int id;
      try {
        id = Integer.parseInt(item.substring(0, eq).trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("members: '" + item + "' has no numeric id");
      }
      if (id < 1 || id > ID_MAX) {
        throw new IllegalArgumentException("members: id " + id + " is not in 1.." + ID_MAX
            + " (ids index the consensus module's 64-bit member masks; 0 is never a member)");
      }
      String address = item.substring(eq + 1).trim();
      checkAddress(item, address);
      if (addresses.containsValue(address)) {
        throw new IllegalArgumentException("members: address " + address + " appears twice (every"
            + " member needs a peer address of its own)");
      }
      if (addresses.put(id, address) != null) {
        throw new IllegalArgumentException("members: id " + id + " appears twice");
      }
    }
    return new ClusterConfig(selfId, addresses);
  }

  /**
   * {@code address} if it is a valid peer address (as {@link #checkAddress}), trimmed.
   *
   * @throws MemberChanges.Refused saying what is wrong, for {@code what}
   */
  static String checkedAddress(String what, String address) throws MemberChanges.Refused {
    String a = address == null ? "" : address.trim();
    if (a.indexOf(':') < 0) {
      throw new MemberChanges.Refused(what + ": address '" + a + "' is not host:port (e.g. 127.0.0.1:7074)");
    }
    try {
      checkAddress(what + "=" + a, a);
    } catch (IllegalArgumentException e) {
      throw new MemberChanges.Refused(e.getMessage().replaceFirst("^members: ", ""));
    }
    return a;
  }

  /**
   * A member's peer address is host:port: a host name, an IPv4 address or a bracketed IPv6 one,
   * and a port 1..65535. Checked here so a typo is one clear line at start, not a failure deep in
   * the transport (or a host that swallowed the next entry, as "1=a:7071;2=b:7081" would).
   */
  private static void checkAddress(String item, String address) {
    String example = " (expected id=host:port, e.g. 1=127.0.0.1:7071)";
    int colon = address.lastIndexOf(':');
    String host = address.substring(0, colon);
    String port = address.substring(colon + 1);
    boolean bracketed = host.startsWith("[") && host.endsWith("]") && host.length() > 2;
    if (host.isEmpty() || (!bracketed && !host.matches("[A-Za-z0-9._-]+"))) {
      throw new IllegalArgumentException("members: '" + item + "' has no valid host ('" + host + "')" + example);
    }
    int portNumber;
    try {
      portNumber = port.matches("[0-9]{1,5}") ? Integer.parseInt(port) : -1;
    } catch (NumberFormatException e) {
      portNumber = -1;
    }
    if (portNumber < 1 || portNumber > 65_535) {
      throw new IllegalArgumentException("members: '" + item + "' has port '" + port
          + "', not a number in 1..65535" + example);
    }
  }

  public List<Integer> memberIds() {
    return new ArrayList<>(peerAddresses.keySet());
  }

  public boolean isSingleNode() {
    return peerAddresses.size() == 1;
  }

  /** The port this server's peer endpoint listens on (from its own member entry). */
  public int selfPeerPort() {
    String address = peerAddresses.get(selfId);
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }
}
