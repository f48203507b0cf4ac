package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The session liveness rules, stepped through time by hand (Liveness has no clock of its own). */
class LivenessTest {
  static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  static final long T0 = 5_000_000_000L;

  final Liveness live = new Liveness(3000, T0);
  final SessionStream stream = new SessionStream(InetSocketAddress.createUnresolved("s1", 1), new ManualClientLoop(),
      null);

  @Test
  void aConfirmationCountsFromWhenTheHeartbeatWasSentNotFromItsReply() {
    live.opened(T0);
    stream.heartbeatSent(1, T0 + 1000 * MS);
    long sent = stream.heartbeatSentNanos(1);
    assertEquals(T0 + 1000 * MS, sent);
    live.confirmed(sent, 3000); // the reply arrives 800 ms later
    assertEquals(2997 * MS - 800 * MS, live.confirmedLeftNanos(T0 + 1800 * MS),
        "3 s on the server's clock is at least 2.997 s on the client's (1000 ppm)");
    live.confirmed(SessionStream.NOT_SENT, 3000); // a reply to a forgotten heartbeat proves nothing
    live.confirmed(T0, 1000); // an older, shorter one never shortens it
    assertEquals(2197 * MS, live.confirmedLeftNanos(T0 + 1800 * MS));
  }

  @Test
  void whatAServerVouchesForIsShortenedByTheClockRateErrorBound() {
    assertEquals(9_990 * MS, Liveness.withRateMargin(10_000 * MS));
    live.opened(T0);
    assertEquals(2997 * MS, live.confirmedLeftNanos(T0), "a new session: the leader's full timeout, less the margin");
  }

  @Test
  void aConnectedClientHeartbeatsEveryThirdAndMovesOnWhenTooLittleStaysConfirmed() {
    live.opened(T0);
    stream.openedNanos = T0;
    stream.lastHeartbeatNanos = T0;
    live.heard(T0);
    assertEquals(Liveness.Action.NOTHING, live.check(T0 + 999 * MS, stream, ConnectionState.CONNECTED).action());
    assertEquals(Liveness.Action.HEARTBEAT, live.check(T0 + 1000 * MS, stream, ConnectionState.CONNECTED).action());
    live.heard(T0 + 1900 * MS); // answers come, but nothing confirms the session
    stream.lastHeartbeatNanos = T0 + 2400 * MS;
    assertEquals(Liveness.Action.NOTHING, live.check(T0 + 2400 * MS, stream, ConnectionState.CONNECTED).action());
    Liveness.Check c = live.check(T0 + 2501 * MS, stream, ConnectionState.CONNECTED);
    assertEquals(Liveness.Action.MOVE_ON, c.action());
    assertTrue(c.why().contains("unconfirmed"), c.why());
  }

  @Test
  void silenceForTwoThirdsOfTheTimeoutMovesOnAndPastTheTimeoutTheSessionIsGone() {
    live.opened(T0 + 10_000 * MS); // plenty confirmed: only the silence matters
    stream.lastHeartbeatNanos = T0;
    live.heard(T0);
    assertNotEquals(Liveness.Action.MOVE_ON, live.check(T0 + 2000 * MS, stream, ConnectionState.CONNECTED).action());
    Liveness.Check c = live.check(T0 + 2001 * MS, stream, ConnectionState.CONNECTED);
    assertEquals(Liveness.Action.MOVE_ON, c.action());
    assertTrue(c.why().contains("no message from s1"), c.why());
    assertFalse(live.expiredLocally(T0 + 3000 * MS));
    assertTrue(live.expiredLocally(T0 + 3001 * MS));
  }

  @Test
  void aResumedSessionLeftUnconfirmedForAThirdOfTheTimeoutMovesOn() {
    live.heard(T0);
    stream.openedNanos = T0;
    stream.lastHeartbeatNanos = T0;
    assertNotEquals(Liveness.Action.MOVE_ON, live.check(T0 + 1000 * MS, stream, ConnectionState.SUSPENDED).action());
    assertEquals(Liveness.Action.MOVE_ON, live.check(T0 + 1001 * MS, stream, ConnectionState.SUSPENDED).action());
  }

  @Test
  void tickIsATwelfthOfTheTimeoutBetweenTenAndAHundredMs() {
    assertEquals(100, live.tickMs());
    live.timeoutMs(600);
    assertEquals(50, live.tickMs());
    live.timeoutMs(60);
    assertEquals(10, live.tickMs());
  }
}
