package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Request;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import dev.synod.server.grpc.ErrorStatus;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client sending garbage gets its errors, and the log gets a bounded number of warnings. */
class MalformedRequestFloodTest {
  @TempDir Path dir;

  @Test
  void aFloodOfBadRequestsWritesABoundedNumberOfWarnings() throws Exception {
    int flood = 300;
    try (LogCapture log = new LogCapture("dev.synod.server.requests", Level.WARN);
         TestServer server = new TestServer(dir.resolve("s"), "metrics-port", "0")) {
      var blocking = server.blocking();
      for (int i = 0; i < flood; i++) {
        try {
          blocking.create(CreateRequest.newBuilder().setPath("bad path " + i).build());
          throw new AssertionError("a path without '/' was accepted");
        } catch (StatusRuntimeException e) {
          assertEquals(ErrorReason.INVALID_PATH, ErrorStatus.reasonOf(e));
        }
      }
      try (StreamClient c = StreamClient.open(server.channel(), 10_000)) {
        for (int i = 0; i < flood; i++) {
          assertEquals(ErrorReason.INVALID_PATH, c.call(Request.newBuilder().setGetData(
              GetDataRequest.newBuilder().setPath("x" + i))).getError().getReason());
        }
      }

      List<String> lines = log.lines();
      assertFalse(lines.isEmpty(), "a malformed request is worth a warning");
      assertTrue(lines.size() <= RateLimitedLog.LINES_PER_WINDOW, lines.size() + " lines: " + lines);
      assertTrue(lines.get(0).contains("INVALID_PATH"), lines.get(0));
      // Every request is still counted.
      String m = Http.get(server.node.metricsPort(), "/metrics").body();
      assertEquals(flood, Http.sample(m, "synod_requests_seconds_count", "api", "unary", "op", "create",
          "outcome", "INVALID_PATH"));
      assertEquals(flood, Http.sample(m, "synod_requests_seconds_count", "api", "stream", "op", "get_data",
          "outcome", "INVALID_PATH"));
    }
  }
}
