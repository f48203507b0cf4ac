package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.ClientMessage;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.server.Eventually;
import dev.synod.server.StreamClient;
import dev.synod.server.TestServer;
import dev.synod.server.grpc.ErrorStatus;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scrape of /metrics after a known workload shows its counts; /healthz and /readyz answer. */
class MetricsEndpointTest {
  @TempDir Path dir;

  @Test
  void scrapeAfterAKnownWorkloadShowsItsCounts() throws Exception {
    try (TestServer server = new TestServer(dir.resolve("s"), "metrics-port", "0", "snapshot-every-txns", "10")) {
      int port = server.node.metricsPort();
      assertTrue(port > 0, "metrics port bound");
      double nodesBefore = Http.sample(Http.get(port, "/metrics").body(), "synod_nodes");

      // Unary: 7 creates, 3 reads that find their node, 2 that do not.
      var blocking = server.blocking();
      for (int i = 0; i < 7; i++) {
        blocking.create(CreateRequest.newBuilder().setPath("/m" + i).setData(ByteString.copyFromUtf8("v")).build());
      }
      for (int i = 0; i < 3; i++) {
        blocking.getData(GetDataRequest.newBuilder().setPath("/m" + i).build());
      }
      for (int i = 0; i < 2; i++) {
        try {
          blocking.getData(GetDataRequest.newBuilder().setPath("/missing" + i).build());
        } catch (StatusRuntimeException e) {
          assertEquals(ErrorReason.NO_NODE, ErrorStatus.reasonOf(e));
        }
      }
      // On a session stream: 4 set_data that succeed, 1 that fails on its version, 1 bad path.
      try (StreamClient c = StreamClient.open(server.channel(), 10_000)) {
        for (int i = 0; i < 4; i++) {
          assertTrue(!c.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder().setPath("/m0")
              .setData(ByteString.copyFromUtf8("w" + i)).setVersion(-1))).hasError());
        }
        assertEquals(ErrorReason.BAD_VERSION, c.call(Request.newBuilder().setSetData(SetDataRequest.newBuilder()
            .setPath("/m0").setVersion(99))).getError().getReason());
        assertEquals(ErrorReason.INVALID_PATH, c.call(Request.newBuilder().setGetData(
            GetDataRequest.newBuilder().setPath("no-slash"))).getError().getReason());
      }

      Http.Answer answer = Http.get(port, "/metrics");
      assertEquals(200, answer.code());
      assertTrue(answer.contentType().startsWith("text/plain"), answer.contentType());
      String m = answer.body();
      assertEquals(7, count(m, "unary", "create", "ok"), m);
      assertEquals(3, count(m, "unary", "get_data", "ok"));
      assertEquals(2, count(m, "unary", "get_data", "NO_NODE"));
      assertEquals(4, count(m, "stream", "set_data", "ok"));
      assertEquals(1, count(m, "stream", "set_data", "BAD_VERSION"));
      assertEquals(1, count(m, "stream", "get_data", "INVALID_PATH"));
      assertEquals(1, count(m, "stream", "open_session", "ok"));
      // Latency histograms: buckets up to +Inf hold every request.
      assertEquals(7, Http.sample(m, "synod_requests_seconds_bucket", "op", "create", "outcome", "ok",
          "le", "+Inf"));
      // Writes: 7 creates, 4 + 1 set_data and the session's open went through the log.
      assertTrue(Http.sample(m, "synod_write_commit_seconds_count") >= 13, m);
      assertTrue(Http.sample(m, "synod_disk_fsync_seconds_count") >= 1, "fsyncs timed");
      assertTrue(Http.sample(m, "synod_batch_txns_count") >= 1, "batches counted");
      assertEquals(nodesBefore + 7, Http.sample(m, "synod_nodes"));
      assertEquals(1, Http.sample(m, "synod_sessions"));
      assertTrue(Http.sample(m, "synod_elections_total") >= 1, "a cluster of one elects itself");
      assertEquals(1, Http.sample(m, "synod_is_leader"));
      assertEquals(1, Http.sample(m, "synod_ready"));
      assertTrue(Http.sample(m, "synod_log_size_bytes") > 0);
      // snapshot-every-txns 10: one was made, in the background.
      String withSnapshot = awaitSample(port, "synod_snapshot_duration_seconds_count", "kind", "written");
      assertTrue(Http.sample(withSnapshot, "synod_snapshot_size_bytes_sum", "kind", "written") > 0);
      assertTrue(m.contains("jvm_memory_used_bytes"), "JVM metrics");
      assertTrue(m.contains("jvm_gc_"), "GC metrics");

      assertEquals(200, Http.get(port, "/healthz").code());
      Http.Answer ready = Http.get(port, "/readyz");
      assertEquals(200, ready.code(), ready.body());
      assertTrue(ready.body().startsWith("ready: leader"), ready.body());
      assertEquals(404, Http.get(port, "/nothing").code());
    }
  }

  @Test
  void noMetricsPortByDefault() throws Exception {
    try (TestServer server = new TestServer(dir.resolve("t"))) {
      assertEquals(-1, server.node.metricsPort());
    }
  }

  /** Scrapes until the sample is at least 1 (deadline 10 s); returns that scrape. */
  static String awaitSample(int port, String name, String... labels) throws Exception {
    return Eventually.eventually(Duration.ofSeconds(10), name + " at least 1",
        () -> {
          try {
            return Http.get(port, "/metrics").body();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while scraping", e);
          }
        }, m -> Http.sample(m, name, labels) >= 1);
  }

  private static double count(String m, String api, String op, String outcome) {
    return Http.sample(m, "synod_requests_seconds_count", "api", api, "op", op, "outcome", outcome);
  }
}
