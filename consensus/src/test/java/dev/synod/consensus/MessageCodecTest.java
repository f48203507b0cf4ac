package dev.synod.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The wire format: every message round-trips exactly; anything malformed (truncated, padded,
 * corrupted, hostile lengths) is rejected with IllegalArgumentException and nothing else,
 * quickly and without large allocations.
 */
class MessageCodecTest {
  private static final Ballot B = new Ballot(7, 2);
  private static final Entry E1 = new Entry(4, B, new byte[] {1, 2, 3});
  private static final Entry E2 = new Entry(5, B, new byte[0]);

  static List<Message> samples() {
    return List.of(
        new Message.Prepare(2, 1, B, 4, 3),
        new Message.Promise(1, 2, B, 4, Message.Promise.COVERS_ALL, List.of(E1, E2)),
        new Message.Promise(1, 2, B, 4, 9, List.of()),
        new Message.Nack(1, 2, B, new Ballot(8, 3), 12),
        new Message.Accept(2, 1, B, 3, List.of(E1, E2)),
        new Message.Accepted(1, 2, B, 4, 5),
        new Message.Heartbeat(2, 1, B, 3, 17),
        new Message.HeartbeatAck(1, 2, B, 17),
        new Message.CatchupRequest(3, 2, 4),
        new Message.CatchupReply(2, 3, 5, List.of(E1, E2)),
        new Message.SnapshotRequired(2, 3, 100),
        new Message.Probe(3, 1, 0x1234_5678_9abcL, 41),
        new Message.ProbeReply(1, 3, 0x1234_5678_9abcL, B, true, false, 9),
        new Message.ProbeReply(1, 3, 7, B, false, true, 0),
        new Message.PreVote(3, 1, new Ballot(8, 3), 41),
        new Message.PreVoteReply(1, 3, new Ballot(8, 3), true, B, 40),
        new Message.PreVoteReply(2, 3, new Ballot(8, 3), false, new Ballot(9, 2), 42));
  }

  @Test
  void everyMessageTypeRoundTrips() {
    for (Message m : samples()) {
      assertEquals(m, MessageCodec.decode(MessageCodec.encode(m)), m.getClass().getSimpleName());
    }
  }

  /** From a read-only view into a larger buffer (a received frame), without copying it first. */
  @Test
  void everyMessageTypeDecodesFromAReadOnlyBufferView() {
    for (Message m : samples()) {
      byte[] bytes = MessageCodec.encode(m);
      byte[] framed = new byte[bytes.length + 7];
      System.arraycopy(bytes, 0, framed, 3, bytes.length);
      java.nio.ByteBuffer view = java.nio.ByteBuffer.wrap(framed, 3, bytes.length).slice().asReadOnlyBuffer();
      view.order(java.nio.ByteOrder.LITTLE_ENDIAN); // the caller's order does not matter
      assertEquals(m, MessageCodec.decode(view), m.getClass().getSimpleName());
    }
  }

  @Test
  void entriesRoundTrip_includingNoopsAndLargeValues() {
    byte[] big = new byte[1 << 20];
    new Random(1).nextBytes(big);
    for (Entry e : List.of(E1, E2, new Entry(Long.MAX_VALUE, new Ballot(Long.MAX_VALUE, Integer.MAX_VALUE), big))) {
      byte[] bytes = MessageCodec.encodeEntry(e);
      assertEquals(e, MessageCodec.decodeEntry(bytes));
      assertArrayEquals(bytes, MessageCodec.encodeEntry(MessageCodec.decodeEntry(bytes)));
    }
  }

  @Test
  void everyTruncationIsRejected() {
    for (Message m : samples()) {
      byte[] bytes = MessageCodec.encode(m);
      for (int n = 0; n < bytes.length; n++) {
        byte[] prefix = java.util.Arrays.copyOf(bytes, n);
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(prefix), m + " cut at " + n);
      }
    }
    byte[] entry = MessageCodec.encodeEntry(E1);
    for (int n = 0; n < entry.length; n++) {
      byte[] prefix = java.util.Arrays.copyOf(entry, n);
      assertThrows(IllegalArgumentException.class, () -> MessageCodec.decodeEntry(prefix));
    }
  }

  @Test
  void trailingBytesUnknownTypesAndVersionsAreRejected() {
    byte[] ok = MessageCodec.encode(samples().get(0));
    byte[] padded = java.util.Arrays.copyOf(ok, ok.length + 1);
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(padded));
    byte[] badType = ok.clone();
    badType[1] = 99;
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(badType));
    byte[] badVersion = ok.clone();
    badVersion[0] = 2;
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(badVersion));
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode((byte[]) null));
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decodeEntry(new byte[0]));
  }

  @Test
  void hostileCountsAndLengthsAreRejectedWithoutAllocating() {
    // An Accept header claiming two billion entries, then a few bytes.
    ByteBuffer accept = ByteBuffer.allocate(2 + 8 + 12 + 8 + 4 + 8);
    accept.put(MessageCodec.VERSION).put((byte) 4).putInt(2).putInt(1).putLong(7).putInt(2).putLong(3)
        .putInt(Integer.MAX_VALUE);
    assertTimeoutPreemptively(Duration.ofSeconds(1),
        () -> assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(accept.array())));
    // An entry claiming a two-gigabyte value.
    ByteBuffer entry = ByteBuffer.allocate(1 + 8 + 12 + 4);
    entry.put(MessageCodec.VERSION).putLong(1).putLong(1).putInt(1).putInt(Integer.MAX_VALUE);
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decodeEntry(entry.array()));
    ByteBuffer negative = ByteBuffer.allocate(1 + 8 + 12 + 4);
    negative.put(MessageCodec.VERSION).putLong(1).putLong(1).putInt(1).putInt(-1);
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decodeEntry(negative.array()));
  }

  @Test
  void semanticallyInvalidFieldsAreRejected() {
    // Negative slot in an entry; an Accept whose entries are not contiguous.
    Entry ok = new Entry(1, B, new byte[0]);
    byte[] bytes = MessageCodec.encodeEntry(ok);
    ByteBuffer.wrap(bytes).putLong(1, -5);
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decodeEntry(bytes));
    assertThrows(IllegalArgumentException.class,
        () -> new Message.Accept(2, 1, B, 0, List.of(new Entry(1, B, new byte[0]), new Entry(3, B, new byte[0]))));
    assertThrows(IllegalArgumentException.class,
        () -> new Message.Accept(2, 1, B, 0, List.of(new Entry(1, new Ballot(1, 1), new byte[0]))));
  }

  /** Fuzzing: random bytes and random corruptions of valid messages never escape as anything else. */
  @Test
  void fuzz_onlyIllegalArgumentExceptionEverEscapes() {
    Random random = new Random(20240601);
    List<byte[]> valid = samples().stream().map(MessageCodec::encode).toList();
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; i < 200_000; i++) {
        byte[] input;
        if (i % 2 == 0) {
          input = new byte[random.nextInt(64)];
          random.nextBytes(input);
          if (input.length > 1 && random.nextBoolean()) {
            input[0] = MessageCodec.VERSION;
            input[1] = (byte) (1 + random.nextInt(14));
          }
        } else {
          input = valid.get(random.nextInt(valid.size())).clone();
          for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
            input[random.nextInt(input.length)] = (byte) random.nextInt(256);
          }
        }
        try {
          Message m = MessageCodec.decode(input);
          assertEquals(m, MessageCodec.decode(MessageCodec.encode(m)), "a decodable input re-encodes stably");
        } catch (IllegalArgumentException expected) {
          // malformed: the only acceptable failure
        }
      }
    });
  }
}
