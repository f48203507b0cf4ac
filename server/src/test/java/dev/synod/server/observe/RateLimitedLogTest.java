package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.synod.server.Eventually;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
  @Test
  void holdsBackBeyondTheWindowAndSaysHowManyInTheNextLine() throws Exception {
    String name = "dev.synod.test.ratelimit";
    try (LogCapture capture = new LogCapture(name, Level.WARN)) {
      RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(name), 2, 50);
      for (int i = 0; i < 10; i++) {
        log.warn("w" + i);
      }
      assertEquals(List.of("w0", "w1"), capture.lines());
      assertEquals(8, log.suppressed());
      Eventually.eventually(Duration.ofSeconds(5), "a third line once the rate limit lets one through", () -> {
        log.warn("later");
        return capture.lines().size() >= 3;
      });
      String third = capture.lines().get(2);
      assertTrue(third.startsWith("later (") && third.contains("similar warnings suppressed"), third);
    }
  }
}
