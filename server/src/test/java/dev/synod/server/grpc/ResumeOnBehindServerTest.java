package dev.synod.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.ResumeSession;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's id is the zxid that created it. A server that has not applied that far cannot know
 * the session yet, so a resume there is refused as "this server is behind" (the client tries
 * another), never as SESSION_EXPIRED, which the SDK takes as final and gives the session up for.
 * Found by the whole-server simulation (a client failing over to a member that had restarted
 * empty or was catching up was told its live session had expired). A session the server has
 * passed and does not hold has ended: SessionStreamTest covers that answer.
 */
class ResumeOnBehindServerTest {
  @TempDir Path dir;

  @Test
  void aSessionCreatedPastThisServersLastZxidIsNotSaidToHaveExpired() throws Exception {
    try (TestServer server = new TestServer(dir)) {
      StreamClient own = StreamClient.open(server.channel(), 5_000);
      long behind = own.opened.getLastZxid() + 1_000; // created where this server has not been yet
      for (long seen : new long[] {0, behind}) { // the SDK's last zxid seen may lag its session id
        StreamClient c = new StreamClient(server.channel());
        c.send(ClientMessage.newBuilder().setResume(ResumeSession.newBuilder()
            .setSessionId(behind).setSecret(7).setLastZxidSeen(seen)).build());
        assertEquals(ErrorReason.SESSION_ZXID_AHEAD,
            ErrorStatus.reasonOf((StatusRuntimeException) c.awaitEnd()), "last zxid seen " + seen);
      }
      own.close();
    }
  }
}
