package dev.synod.consensus;

import dev.synod.consensus.Message.Accept;
import dev.synod.consensus.Message.Accepted;
import dev.synod.consensus.Message.CatchupReply;
import dev.synod.consensus.Message.CatchupRequest;
import dev.synod.consensus.Message.Heartbeat;
import dev.synod.consensus.Message.HeartbeatAck;
import dev.synod.consensus.Message.Nack;
import dev.synod.consensus.Message.PreVote;
import dev.synod.consensus.Message.PreVoteReply;
import dev.synod.consensus.Message.Prepare;
import dev.synod.consensus.Message.Probe;
import dev.synod.consensus.Message.ProbeReply;
import dev.synod.consensus.Message.Promise;
import dev.synod.consensus.Message.SnapshotRequired;
import dev.synod.consensus.Message.TimeoutNow;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire format of {@link Message} and of a stored {@link Entry}: a version byte, a type byte,
 * then fixed-width big-endian fields; a value is a length and its bytes. Decoding rejects
 * anything malformed with {@link IllegalArgumentException} and nothing else; every count and
 * length is checked against the bytes actually present, so a hostile length cannot cause a
 * large allocation.
 */
public final class MessageCodec {
  static final byte VERSION = 1;
  private static final int BALLOT_BYTES = Long.BYTES + Integer.BYTES;
  /** The smallest encoded entry: slot, ballot, value length, empty value. */
  private static final int ENTRY_BYTES_MIN = Long.BYTES + BALLOT_BYTES + Integer.BYTES;
  private static final int HEADER_BYTES = 2 + 2 * Integer.BYTES;

  private static final byte PREPARE = 1;
  private static final byte PROMISE = 2;
  private static final byte NACK = 3;
  private static final byte ACCEPT = 4;
  private static final byte ACCEPTED = 5;
  private static final byte HEARTBEAT = 6;
  private static final byte HEARTBEAT_ACK = 7;
  private static final byte CATCHUP_REQUEST = 8;
  private static final byte CATCHUP_REPLY = 9;
  private static final byte SNAPSHOT_REQUIRED = 10;
  private static final byte PROBE = 11;
  private static final byte PROBE_REPLY = 12;
  private static final byte PRE_VOTE = 13;
  private static final byte PRE_VOTE_REPLY = 14;
  private static final byte TIMEOUT_NOW = 15;

  private MessageCodec() {}

  public static byte[] encode(Message m) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + bodySize(m));
    b.put(VERSION).put(type(m)).putInt(m.from()).putInt(m.to());
    if (m instanceof Prepare p) {
      putBallot(b, p.ballot());
      b.putLong(p.fromSlot()).putLong(p.commitIndex());
    } else if (m instanceof Promise p) {
      putBallot(b, p.ballot());
      b.putLong(p.fromSlot()).putLong(p.coveredTo());
      putEntries(b, p.entries());
    } else if (m instanceof Nack n) {
      putBallot(b, n.rejected());
      putBallot(b, n.promised());
      b.putLong(n.commitIndex());
    } else if (m instanceof Accept a) {
      putBallot(b, a.ballot());
      b.putLong(a.leaderCommit());
      putEntries(b, a.entries());
    } else if (m instanceof Accepted a) {
      putBallot(b, a.ballot());
      b.putLong(a.firstSlot()).putLong(a.lastSlot());
    } else if (m instanceof Heartbeat h) {
      putBallot(b, h.ballot());
      b.putLong(h.leaderCommit()).putLong(h.round());
    } else if (m instanceof HeartbeatAck h) {
      putBallot(b, h.ballot());
      b.putLong(h.round());
    } else if (m instanceof CatchupRequest c) {
      b.putLong(c.fromSlot());
    } else if (m instanceof CatchupReply c) {
      b.putLong(c.commitIndex());
      putEntries(b, c.entries());
    } else if (m instanceof SnapshotRequired s) {
      b.putLong(s.snapshotSlot());
    } else if (m instanceof Probe p) {
      b.putLong(p.nonce()).putLong(p.commitIndex());
    } else if (m instanceof ProbeReply p) {
      b.putLong(p.nonce());
      putBallot(b, p.promised());
      b.put((byte) (p.foundingWithoutHistory() ? 1 : 0)).put((byte) (p.hasHistory() ? 1 : 0));
      b.putLong(p.leaderSlot());
    } else if (m instanceof PreVote p) {
      putBallot(b, p.ballot());
      b.putLong(p.commitIndex());
    } else if (m instanceof PreVoteReply r) {
      putBallot(b, r.ballot());
      b.put((byte) (r.granted() ? 1 : 0));
      putBallot(b, r.promised());
      b.putLong(r.commitIndex());
    } else if (m instanceof TimeoutNow t) {
      putBallot(b, t.ballot());
      b.putLong(t.leaderCommit());
    }
    return finish(b);
  }

  public static Message decode(byte[] bytes) {
    return decode(wrap(bytes));
  }

  /**
   * Decodes from {@code b}'s position to its limit (a read-only view of a received buffer will
   * do: the bytes are read, not kept, so the caller need not copy them first).
   */
  public static Message decode(ByteBuffer b) {
    if (b == null) {
      throw new IllegalArgumentException("buffer must not be null");
    }
    b = b.slice().order(java.nio.ByteOrder.BIG_ENDIAN);
    try {
      if (b.get() != VERSION) {
        throw new IllegalArgumentException("unknown message format version");
      }
      byte type = b.get();
      int from = b.getInt();
      int to = b.getInt();
      Message m = switch (type) {
        case PREPARE -> new Prepare(from, to, getBallot(b), b.getLong(), b.getLong());
        case PROMISE -> new Promise(from, to, getBallot(b), b.getLong(), b.getLong(), getEntries(b));
        case NACK -> new Nack(from, to, getBallot(b), getBallot(b), b.getLong());
        case ACCEPT -> new Accept(from, to, getBallot(b), b.getLong(), getEntries(b));
        case ACCEPTED -> new Accepted(from, to, getBallot(b), b.getLong(), b.getLong());
        case HEARTBEAT -> new Heartbeat(from, to, getBallot(b), b.getLong(), b.getLong());
        case HEARTBEAT_ACK -> new HeartbeatAck(from, to, getBallot(b), b.getLong());
        case CATCHUP_REQUEST -> new CatchupRequest(from, to, b.getLong());
        case CATCHUP_REPLY -> new CatchupReply(from, to, b.getLong(), getEntries(b));
        case SNAPSHOT_REQUIRED -> new SnapshotRequired(from, to, b.getLong());
        case PROBE -> new Probe(from, to, b.getLong(), b.getLong());
        case PROBE_REPLY -> new ProbeReply(from, to, b.getLong(), getBallot(b), getBoolean(b), getBoolean(b),
            b.getLong());
        case PRE_VOTE -> new PreVote(from, to, getBallot(b), b.getLong());
        case PRE_VOTE_REPLY -> new PreVoteReply(from, to, getBallot(b), getBoolean(b), getBallot(b), b.getLong());
        case TIMEOUT_NOW -> new TimeoutNow(from, to, getBallot(b), b.getLong());
        default -> throw new IllegalArgumentException("unknown message type " + type);
      };
      requireFullyRead(b);
      return m;
    } catch (BufferUnderflowException truncated) {
      throw new IllegalArgumentException("truncated message", truncated);
    }
  }

  public static byte[] encodeEntry(Entry e) {
    ByteBuffer b = ByteBuffer.allocate(1 + entrySize(e));
    b.put(VERSION);
    putEntry(b, e);
    return finish(b);
  }

  public static Entry decodeEntry(byte[] bytes) {
    ByteBuffer b = wrap(bytes);
    try {
      if (b.get() != VERSION) {
        throw new IllegalArgumentException("unknown entry format version");
      }
      Entry e = getEntry(b);
      requireFullyRead(b);
      return e;
    } catch (BufferUnderflowException truncated) {
      throw new IllegalArgumentException("truncated entry", truncated);
    }
  }

  private static byte type(Message m) {
    if (m instanceof Prepare) {
      return PREPARE;
    } else if (m instanceof Promise) {
      return PROMISE;
    } else if (m instanceof Nack) {
      return NACK;
    } else if (m instanceof Accept) {
      return ACCEPT;
    } else if (m instanceof Accepted) {
      return ACCEPTED;
    } else if (m instanceof Heartbeat) {
      return HEARTBEAT;
    } else if (m instanceof HeartbeatAck) {
      return HEARTBEAT_ACK;
    } else if (m instanceof CatchupRequest) {
      return CATCHUP_REQUEST;
    } else if (m instanceof CatchupReply) {
      return CATCHUP_REPLY;
    } else if (m instanceof SnapshotRequired) {
      return SNAPSHOT_REQUIRED;
    } else if (m instanceof Probe) {
      return PROBE;
    } else if (m instanceof ProbeReply) {
      return PROBE_REPLY;
    } else if (m instanceof PreVote) {
      return PRE_VOTE;
    } else if (m instanceof TimeoutNow) {
      return TIMEOUT_NOW;
    } else {
      return PRE_VOTE_REPLY;
    }
  }

  private static int bodySize(Message m) {
    if (m instanceof Prepare) {
      return BALLOT_BYTES + 2 * Long.BYTES;
    } else if (m instanceof Promise p) {
      return BALLOT_BYTES + 2 * Long.BYTES + entriesSize(p.entries());
    } else if (m instanceof Nack) {
      return 2 * BALLOT_BYTES + Long.BYTES;
    } else if (m instanceof Accept a) {
      return BALLOT_BYTES + Long.BYTES + entriesSize(a.entries());
    } else if (m instanceof Accepted || m instanceof Heartbeat) {
      return BALLOT_BYTES + 2 * Long.BYTES;
    } else if (m instanceof HeartbeatAck) {
      return BALLOT_BYTES + Long.BYTES;
    } else if (m instanceof CatchupReply c) {
      return Long.BYTES + entriesSize(c.entries());
    } else if (m instanceof ProbeReply) {
      return 2 * Long.BYTES + BALLOT_BYTES + 2;
    } else if (m instanceof Probe) {
      return 2 * Long.BYTES;
    } else if (m instanceof PreVote || m instanceof TimeoutNow) {
      return BALLOT_BYTES + Long.BYTES;
    } else if (m instanceof PreVoteReply) {
      return 2 * BALLOT_BYTES + 1 + Long.BYTES;
    } else {
      return Long.BYTES; // CatchupRequest, SnapshotRequired
    }
  }

  private static int entriesSize(List<Entry> entries) {
    long size = Integer.BYTES;
    for (Entry e : entries) {
      size += entrySize(e);
    }
    if (size > Integer.MAX_VALUE - HEADER_BYTES - 64) {
      throw new IllegalArgumentException("message too large to encode: " + size + " bytes");
    }
    return (int) size;
  }

  private static int entrySize(Entry e) {
    return ENTRY_BYTES_MIN + e.value().length;
  }

  private static void putBallot(ByteBuffer b, Ballot ballot) {
    b.putLong(ballot.round()).putInt(ballot.node());
  }

  private static Ballot getBallot(ByteBuffer b) {
    return new Ballot(b.getLong(), b.getInt());
  }

  private static void putEntries(ByteBuffer b, List<Entry> entries) {
    b.putInt(entries.size());
    for (Entry e : entries) {
      putEntry(b, e);
    }
  }

  private static List<Entry> getEntries(ByteBuffer b) {
    int count = b.getInt();
    if (count < 0 || count > b.remaining() / ENTRY_BYTES_MIN) {
      throw new IllegalArgumentException("entry count " + count + " does not fit the "
          + b.remaining() + " bytes left");
    }
    List<Entry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      entries.add(getEntry(b));
    }
    return entries;
  }

  private static void putEntry(ByteBuffer b, Entry e) {
    b.putLong(e.slot());
    putBallot(b, e.ballot());
    b.putInt(e.value().length).put(e.value());
  }

  private static Entry getEntry(ByteBuffer b) {
    long slot = b.getLong();
    Ballot ballot = getBallot(b);
    int length = b.getInt();
    if (length < 0 || length > b.remaining()) {
      throw new IllegalArgumentException("value length " + length + " does not fit the "
          + b.remaining() + " bytes left");
    }
    byte[] value = new byte[length];
    b.get(value);
    return new Entry(slot, ballot, value);
  }

  private static boolean getBoolean(ByteBuffer b) {
    byte v = b.get();
    if (v != 0 && v != 1) {
      throw new IllegalArgumentException("boolean byte must be 0 or 1, got " + v);
    }
    return v == 1;
  }

  private static ByteBuffer wrap(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("bytes must not be null");
    }
    return ByteBuffer.wrap(bytes);
  }

  private static void requireFullyRead(ByteBuffer b) {
    if (b.hasRemaining()) {
      throw new IllegalArgumentException(b.remaining() + " unexpected trailing bytes");
    }
  }

  private static byte[] finish(ByteBuffer b) {
    if (b.hasRemaining()) {
      throw new IllegalStateException("encoded size mismatch: " + b.remaining() + " bytes unused");
    }
    return b.array();
  }
}
