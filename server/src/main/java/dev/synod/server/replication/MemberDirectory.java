package dev.synod.server.replication;

import dev.synod.consensus.Membership;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Every member's peer address as this server knows it now (any thread). It starts as the static
 * {@code --members}; once a membership is decided (or a snapshot carries one) it follows that:
 * new members' addresses are learned, removed members are dropped. A member that
 * {@code --members} lists is dialed at that address, whatever the membership says: it is how this
 * server reaches that member (through a proxy, a NAT or a name of its own, possibly), while the
 * membership's address is the one the leader was told; members added later are dialed at the
 * membership's address.
 */
public final class MemberDirectory {
  private final int selfId;
  private final SortedMap<Integer, String> configured;
  private final ConcurrentSkipListMap<Integer, String> addresses = new ConcurrentSkipListMap<>();

  public MemberDirectory(ClusterConfig cluster) {
    this.selfId = cluster.selfId();
    this.configured = cluster.peerAddresses();
    addresses.putAll(configured);
  }

  /**
   * Follows a decided membership exactly: members it lists, with their addresses; this server
   * itself always stays (a removed member still knows its own address).
   *
   * @return whether anything changed
   */
  public synchronized boolean adopt(Membership m) {
    SortedMap<Integer, String> next = resolve(m);
    next.putIfAbsent(selfId, addresses.getOrDefault(selfId, configured.getOrDefault(selfId, "")));
    if (next.equals(addresses)) {
      return false;
    }
    addresses.keySet().retainAll(next.keySet());
    addresses.putAll(next);
    return true;
  }

  /**
   * Adds the members of a proposed membership (a leader replicates to them before it is decided);
   * drops no one.
   *
   * @return whether anything changed
   */
  public synchronized boolean learn(Membership m) {
    boolean changed = false;
    for (Map.Entry<Integer, String> e : resolve(m).entrySet()) {
      if (!e.getValue().isEmpty() && !e.getValue().equals(addresses.put(e.getKey(), e.getValue()))) {
        changed = true;
      }
    }
    return changed;
  }

  private SortedMap<Integer, String> resolve(Membership m) {
    SortedMap<Integer, String> next = new TreeMap<>();
    for (Membership.Member member : m.members().values()) {
      String address = configured.containsKey(member.id()) ? configured.get(member.id())
          : !member.address().isEmpty() ? member.address() : addresses.getOrDefault(member.id(), "");
      next.put(member.id(), address);
    }
    return next;
  }

  /** A live, read-only view of the addresses by id. */
  public SortedMap<Integer, String> addresses() {
    return Collections.unmodifiableSortedMap(addresses);
  }

  public boolean contains(int id) {
    return addresses.containsKey(id);
  }

  /** The member's peer address, "" if not known. */
  public String address(int id) {
    return addresses.getOrDefault(id, "");
  }

  public List<Integer> ids() {
    return new ArrayList<>(addresses.keySet());
  }

  /** The {@code --members} setting this directory started from. */
  public SortedMap<Integer, String> configured() {
    return configured;
  }

  public int selfId() {
    return selfId;
  }
}
