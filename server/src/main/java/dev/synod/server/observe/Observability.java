package dev.synod.server.observe;

import dev.synod.server.config.ServerConfig;
import java.io.IOException;
import java.net.BindException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator-facing side of a running node, started and stopped with it: the health monitor
 * (gRPC health follows readiness) and, with {@code metrics-port} set, the HTTP endpoint serving
 * {@code /metrics}, {@code /healthz} and {@code /readyz}.
 */
public final class Observability implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Observability.class);

  private final ServerConfig config;
  private final Optional<PrometheusMetrics> metrics;
  private final Readiness readiness;
  private final HealthMonitor health;
  private volatile MetricsEndpoint endpoint;

  public Observability(ServerConfig config, Optional<PrometheusMetrics> metrics, Readiness readiness,
      HealthMonitor health) {
    this.config = config;
    this.metrics = metrics;
    this.readiness = readiness;
    this.health = health;
  }

  /**
   * Sets the health status and opens the metrics port, if configured.
   *
   * @throws BindException the metrics port is taken
   */
  public void start() throws IOException {
    health.start();
    if (metrics.isPresent() && config.metricsPort() >= 0) {
      try {
        endpoint = new MetricsEndpoint(config.host(), config.metricsPort(), metrics.get()::scrape, readiness);
      } catch (BindException e) {
        BindException named = new BindException("metrics port " + config.metricsPort() + ": " + e.getMessage());
        named.initCause(e);
        throw named;
      }
      endpoint.start();
      LOG.atInfo().addKeyValue("server", config.serverId())
          .log("server {}: metrics on http://{}:{}/metrics (also /healthz, /readyz)", config.serverId(),
              config.host(), endpoint.port());
    }
  }

  /** The metrics port bound, or -1 without one. */
  public int metricsPort() {
    MetricsEndpoint e = endpoint;
    return e == null ? -1 : e.port();
  }

  public Readiness readiness() {
    return readiness;
  }

  @Override
  public void close() {
    MetricsEndpoint e = endpoint;
    if (e != null) {
      e.close();
    }
    health.close();
    metrics.ifPresent(PrometheusMetrics::close);
  }
}
