package dev.synod.client;

import static org.junit.jupiter.api.Assertions.*;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Bounded retries: with no server reachable and no session, calls end with ConnectionLossException. */
class RetryTest {
  @Test
  void noServerReachableFailsWithConnectionLoss() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (SynodClient client = SynodClient.builder().connectString("127.0.0.1:" + port)
        .retryPolicy(RetryPolicy.exponential(Duration.ofMillis(5), Duration.ofMillis(20), 3)).build().start()) {
      var call = client.existsAsync("/", null);
      ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionLossException.class, e.getCause());
      assertFalse(client.blockUntilConnected(Duration.ofMillis(50)));
      assertThrows(ConnectionLossException.class, () -> client.exists("/"));
    }
  }

  @Test
  void backoffIsJitteredAndCapped() {
    RetryPolicy p = RetryPolicy.exponential(Duration.ofMillis(10), Duration.ofMillis(100), 5);
    for (int attempt = 1; attempt < 40; attempt++) {
      long d = p.delayMs(attempt);
      assertTrue(d >= 0 && d <= 100, "attempt " + attempt + " -> " + d);
    }
  }
}
