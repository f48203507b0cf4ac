package dev.synod.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.SetQuotaRequest;
import dev.synod.server.TestServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A soft quota limit passed shows in the metrics (as in Status), and goes once usage is back under it. */
class QuotaMetricsTest {
  @TempDir Path dir;

  @Test
  void softLimitsOverTheirValueAreAGauge() throws Exception {
    try (TestServer server = new TestServer(dir.resolve("s"), "metrics-port", "0")) {
      int port = server.node.metricsPort();
      var blocking = server.blocking();
      blocking.create(CreateRequest.newBuilder().setPath("/q").build());
      // Soft limit of 2 nodes (the subtree's root counts), 5 bytes.
      blocking.setQuota(SetQuotaRequest.newBuilder().setPath("/q")
          .setQuota(Quota.newBuilder().setCountSoft(2).setBytesSoft(5)).build());
      assertEquals(0, Http.sample(Http.get(port, "/metrics").body(), "synod_quota_soft_exceeded"));
      blocking.create(CreateRequest.newBuilder().setPath("/q/a").build());
      assertEquals(0, Http.sample(Http.get(port, "/metrics").body(), "synod_quota_soft_exceeded"),
          "exactly at the limit");
      blocking.create(CreateRequest.newBuilder().setPath("/q/b")
          .setData(com.google.protobuf.ByteString.copyFromUtf8("123456")).build());
      assertEquals(2, Http.sample(Http.get(port, "/metrics").body(), "synod_quota_soft_exceeded"),
          "count and bytes over");
      blocking.delete(DeleteRequest.newBuilder().setPath("/q/b").build());
      assertEquals(0, Http.sample(Http.get(port, "/metrics").body(), "synod_quota_soft_exceeded"));
    }
  }
}
