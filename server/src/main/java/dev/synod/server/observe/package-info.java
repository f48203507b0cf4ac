/**
 * What an operator sees of a running server: logging setup and rate limits
 * ({@link dev.synod.server.observe.LogSetup}, {@link dev.synod.server.observe.RateLimitedLog}),
 * metrics ({@link dev.synod.server.observe.ServerMetrics}, a narrow interface with a no-op default,
 * implemented with Micrometer's Prometheus registry by
 * {@link dev.synod.server.observe.PrometheusMetrics}), readiness
 * ({@link dev.synod.server.observe.Readiness}), and the HTTP endpoint that serves
 * {@code /metrics}, {@code /healthz} and {@code /readyz}.
 *
 * <p>The deterministic parts of the server (the replica loop, the state machine, the session
 * pipeline) never see a metrics or logging library: they report through
 * {@link dev.synod.server.replication.ReplicaEffects} and {@link ServerMetrics}, whose simulator
 * implementations do nothing and read no clock.
 */
package dev.synod.server.observe;
