package dev.synod.server.observe;

import dev.synod.api.v1.SynodGrpc;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the gRPC health service in step with {@link Readiness}: SERVING while this member is
 * ready, NOT_SERVING while it has no leader or cannot reach a quorum. Checks every
 * {@link #CHECK_INTERVAL_MS} on a thread of its own and logs each change with its reason.
 */
public final class HealthMonitor implements AutoCloseable {
  /** How often readiness is checked. */
  static final long CHECK_INTERVAL_MS = 100;
  private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

  private final Readiness readiness;
  private final HealthStatusManager health;
  private final int serverId;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "synod-health");
    t.setDaemon(true);
    return t;
  });
  private Boolean lastReady;

  public HealthMonitor(Readiness readiness, HealthStatusManager health, int serverId) {
    this.readiness = readiness;
    this.health = health;
    this.serverId = serverId;
  }

  /** Sets the status now (before clients can ask), then keeps it up to date. */
  public void start() {
    check();
    timer.scheduleWithFixedDelay(this::check, CHECK_INTERVAL_MS, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  private synchronized void check() {
    try {
      Readiness.Verdict v = readiness.check();
      if (lastReady != null && lastReady == v.ready()) {
        return;
      }
      boolean first = lastReady == null;
      lastReady = v.ready();
      ServingStatus status = v.ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      health.setStatus("", status);
      health.setStatus(SynodGrpc.SERVICE_NAME, status);
      if (v.ready()) {
        LOG.atInfo().addKeyValue("server", serverId)
            .log("server {}: ready ({}); health SERVING", serverId, v.reason());
      } else if (first) {
        LOG.atInfo().addKeyValue("server", serverId)
            .log("server {}: not ready yet ({}); health NOT_SERVING", serverId, v.reason());
      } else {
        LOG.atWarn().addKeyValue("server", serverId)
            .log("server {}: not ready ({}); health NOT_SERVING", serverId, v.reason());
      }
    } catch (RuntimeException e) {
      LOG.error("readiness check failed: {}", e.toString(), e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
