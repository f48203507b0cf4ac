package dev.synod.consensus;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Who is in the cluster, and how: voters decide (a majority of them is a quorum), learners and
 * observers only receive decided entries (a learner is meant to be promoted once it has caught
 * up; an observer stays non-voting, for read scaling). Each member has an address, opaque here
 * (the driver's peer address).
 *
 * <p>A membership is changed through the log: the leader proposes it as a slot value
 * ({@link #encode()}, told apart from the driver's values by {@link #isConfigValue}), and once
 * decided at slot i it governs every slot after i. See {@link Replica#proposeMembership} for the
 * rules that keep quorums intersecting.
 *
 * @param members every member by id (0..{@link #ID_MAX})
 */
public record Membership(SortedMap<Integer, Member> members) {
  /** Ids index 64-bit masks. */
  public static final int ID_MAX = 63;
  /** Voters at most; more only make a quorum slower. */
  public static final int VOTERS_MAX = 9;
  /**
   * A slot value starting with these bytes is a membership: a protobuf message never starts with
   * a 0 byte, and a driver must not propose a value that starts with all four.
   */
  private static final byte[] MAGIC = {0, 'S', 'y', 'M'};
  private static final byte FORMAT = 1;
  private static final int ADDRESS_BYTES_MAX = 1024;

  public enum Role { VOTER, LEARNER, OBSERVER }

  /** One member: its id, role and the driver's address for it ("" if not known). */
  public record Member(int id, Role role, String address) {
    public Member {
      if (id < 0 || id > ID_MAX) {
        throw new IllegalArgumentException("member id must be in 0.." + ID_MAX + ", got " + id);
      }
      if (role == null) {
        throw new IllegalArgumentException("member " + id + " needs a role");
      }
      address = address == null ? "" : address;
      if (address.length() > ADDRESS_BYTES_MAX) {
        throw new IllegalArgumentException("member " + id + ": address longer than " + ADDRESS_BYTES_MAX);
      }
    }
  }

  public Membership {
    if (members == null) {
      throw new IllegalArgumentException("members must not be null");
    }
    TreeMap<Integer, Member> copy = new TreeMap<>();
    int voters = 0;
    for (Map.Entry<Integer, Member> e : members.entrySet()) {
      if (e.getValue() == null || e.getKey() == null || e.getKey() != e.getValue().id()) {
        throw new IllegalArgumentException("members must map each id to its member, got " + e);
      }
      copy.put(e.getKey(), e.getValue());
      if (e.getValue().role() == Role.VOTER) {
        voters++;
      }
    }
    if (voters == 0) {
      throw new IllegalArgumentException("a membership needs at least one voter, got " + copy.values());
    }
    members = Collections.unmodifiableSortedMap(copy);
  }

  /** Every id a voter, no addresses: a static cluster's membership. */
  public static Membership ofVoters(List<Integer> ids) {
    TreeMap<Integer, Member> m = new TreeMap<>();
    for (int id : ids) {
      m.put(id, new Member(id, Role.VOTER, ""));
    }
    return new Membership(m);
  }

  /** This membership with {@code id} set to {@code role} at {@code address} (added if absent). */
  public Membership with(int id, Role role, String address) {
    TreeMap<Integer, Member> m = new TreeMap<>(members);
    m.put(id, new Member(id, role, address));
    return new Membership(m);
  }

  /** This membership without {@code id}. */
  public Membership without(int id) {
    TreeMap<Integer, Member> m = new TreeMap<>(members);
    m.remove(id);
    return new Membership(m);
  }

  public Role roleOf(int id) {
    Member m = members.get(id);
    return m == null ? null : m.role();
  }

  public boolean isVoter(int id) {
    return roleOf(id) == Role.VOTER;
  }

  public boolean contains(int id) {
    return members.containsKey(id);
  }

  public String addressOf(int id) {
    Member m = members.get(id);
    return m == null ? "" : m.address();
  }

  public List<Integer> voters() {
    List<Integer> ids = new ArrayList<>();
    for (Member m : members.values()) {
      if (m.role() == Role.VOTER) {
        ids.add(m.id());
      }
    }
    return ids;
  }

  /** Bit {@code id} set for every voter. */
  public long voterMask() {
    long mask = 0;
    for (Member m : members.values()) {
      if (m.role() == Role.VOTER) {
        mask |= 1L << m.id();
      }
    }
    return mask;
  }

  /** Bit {@code id} set for every member, voting or not. */
  public long memberMask() {
    long mask = 0;
    for (int id : members.keySet()) {
      mask |= 1L << id;
    }
    return mask;
  }

  /** A majority of the voters. */
  public int quorum() {
    return Long.bitCount(voterMask()) / 2 + 1;
  }

  /** True if the ids in {@code mask} include a majority of the voters. */
  public boolean isQuorum(long mask) {
    long voters = voterMask();
    return Long.bitCount(mask & voters) >= Long.bitCount(voters) / 2 + 1;
  }

  /**
   * Why {@code next} may not follow this membership directly, or null if it may. The voters may
   * change by one at a time: one voter removed, or one learner promoted (a member joins as a
   * learner or observer first, so it has caught up before its vote counts). Any two majorities of
   * memberships that differ by one voter intersect, which is what keeps a change safe while some
   * replicas still use the old one. Learners and observers come and go freely.
   */
  public String changeRefusal(Membership next) {
    long before = voterMask();
    long after = next.voterMask();
    long added = after & ~before;
    long removed = before & ~after;
    if (Long.bitCount(added) + Long.bitCount(removed) > 1) {
      return "voters may change by one at a time (from " + voters() + " to " + next.voters() + ")";
    }
    if (added != 0) {
      int id = Long.numberOfTrailingZeros(added);
      if (roleOf(id) != Role.LEARNER) {
        return "member " + id + " must be a learner before it becomes a voter (add it as a learner,"
            + " let it catch up, then promote it)";
      }
    }
    if (Long.bitCount(after) > VOTERS_MAX) {
      return "at most " + VOTERS_MAX + " voters";
    }
    return null;
  }

  /** True if the slot value is a membership rather than the driver's. */
  public static boolean isConfigValue(byte[] value) {
    return value.length > MAGIC.length && value[0] == MAGIC[0] && value[1] == MAGIC[1]
        && value[2] == MAGIC[2] && value[3] == MAGIC[3];
  }

  /** The slot value proposing this membership. */
  public byte[] encode() {
    List<byte[]> addresses = new ArrayList<>();
    int size = MAGIC.length + 1 + Integer.BYTES;
    for (Member m : members.values()) {
      byte[] a = m.address().getBytes(StandardCharsets.UTF_8);
      addresses.add(a);
      size += 2 + Integer.BYTES + a.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(MAGIC).put(FORMAT).putInt(members.size());
    int i = 0;
    for (Member m : members.values()) {
      byte[] a = addresses.get(i++);
      b.put((byte) m.id()).put((byte) m.role().ordinal()).putInt(a.length).put(a);
    }
    return b.array();
  }

  /** Decodes a slot value made by {@link #encode()}; anything else is IllegalArgumentException. */
  public static Membership decode(byte[] value) {
    if (!isConfigValue(value) || value[MAGIC.length] != FORMAT) {
      throw new IllegalArgumentException("not a membership value");
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(value, MAGIC.length + 1, value.length - MAGIC.length - 1);
      int count = b.getInt();
      if (count < 1 || count > ID_MAX + 1) {
        throw new IllegalArgumentException("membership: " + count + " members");
      }
      TreeMap<Integer, Member> m = new TreeMap<>();
      for (int i = 0; i < count; i++) {
        int id = b.get();
        int role = b.get();
        int length = b.getInt();
        if (role < 0 || role >= Role.values().length || length < 0 || length > b.remaining()) {
          throw new IllegalArgumentException("membership: malformed member " + id);
        }
        byte[] a = new byte[length];
        b.get(a);
        if (m.put(id, new Member(id, Role.values()[role], new String(a, StandardCharsets.UTF_8))) != null) {
          throw new IllegalArgumentException("membership: member " + id + " twice");
        }
      }
      if (b.hasRemaining()) {
        throw new IllegalArgumentException("membership: trailing bytes");
      }
      return new Membership(m);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("membership: truncated", e);
    }
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("Membership[");
    for (Member m : members.values()) {
      if (s.length() > 11) {
        s.append(", ");
      }
      s.append(m.id()).append(m.role() == Role.VOTER ? "" : m.role() == Role.LEARNER ? "(learner)" : "(observer)");
    }
    return s.append(']').toString();
  }
}
