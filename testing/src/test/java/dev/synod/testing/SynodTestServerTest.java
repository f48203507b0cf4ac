package dev.synod.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.synod.client.ConnectionState;
import dev.synod.client.SynodClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What a user's test does with the kit: a server, a client, a restart in the middle. */
class SynodTestServerTest {
  @Test
  void aClientUsesTheServerAndResumesItsSessionAcrossARestart() {
    Path data;
    try (SynodTestServer server = SynodTestServer.start();
         SynodClient client = SynodClient.builder().connectString(server.connectString()).build().start()) {
      data = server.dataDir();
      client.create("/app", "v1".getBytes(UTF_8));
      long session = client.sessionId();
      server.restart();
      Eventually.eventually(Duration.ofSeconds(20), "the client reconnected",
          () -> client.state() == ConnectionState.RECONNECTED || client.state() == ConnectionState.CONNECTED);
      assertEquals("v1", new String(client.getData("/app").data(), UTF_8));
      assertEquals(session, client.sessionId(), "the same session, resumed");
      assertTrue(server.fatalErrors().isEmpty());
    }
    assertFalse(Files.exists(data), "the temporary data directory is gone");
  }
}
