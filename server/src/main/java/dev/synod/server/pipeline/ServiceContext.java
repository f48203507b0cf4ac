package dev.synod.server.pipeline;

import dev.synod.api.v1.HeartbeatReply;
import dev.synod.api.v1.StatusResponse;
import dev.synod.server.auth.Authenticator;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.observe.ServerMetrics;
import dev.synod.server.pipeline.SessionAccess;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.WritePipeline;
import dev.synod.server.state.StateMachine;
import dev.synod.server.state.SynodException;
import java.util.function.Supplier;

/** What the gRPC adapters need from the rest of the server. */
public final class ServiceContext {
  private final ServerConfig config;
  private final StateMachine state;
  private final WritePipeline pipeline;
  private final SessionTracker tracker;
  private final StreamRegistry registry;
  private final Supplier<StatusResponse> status;
  private final RequestValidator validator;
  private final Authenticator authenticator;
  private final ServerMetrics metrics;

  public ServiceContext(
      ServerConfig config,
      StateMachine state,
      WritePipeline pipeline,
      SessionTracker tracker,
      StreamRegistry registry,
      Supplier<StatusResponse> status) {
    this(config, state, pipeline, tracker, registry, status, ServerMetrics.NONE);
  }

  /** As above, with requests counted and timed through {@code metrics}. */
  public ServiceContext(
      ServerConfig config,
      StateMachine state,
      WritePipeline pipeline,
      SessionTracker tracker,
      StreamRegistry registry,
      Supplier<StatusResponse> status,
      ServerMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.state = state;
    this.pipeline = pipeline;
    this.tracker = tracker;
    this.registry = registry;
    this.status = status;
    this.validator = new RequestValidator(config);
    this.authenticator = new Authenticator(config.superuserDigest());
  }

  public Authenticator authenticator() {
    return authenticator;
  }

  public ServerConfig config() {
    return config;
  }

  public StateMachine state() {
    return state;
  }

  public WritePipeline pipeline() {
    return pipeline;
  }

  public SessionTracker tracker() {
    return tracker;
  }

  public StreamRegistry registry() {
    return registry;
  }

  public Supplier<StatusResponse> status() {
    return status;
  }

  public RequestValidator validator() {
    return validator;
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  /**
   * The answer to a heartbeat of {@code sessionId} (already touched): confirmed, with the time
   * left, only as far as this server knows the leader's view of the session (see
   * {@link SessionTracker#confirm}).
   */
  public HeartbeatReply.Builder heartbeatReply(long sessionId) {
    WritePipeline.LeaderContact contact = pipeline.leaderContact();
    SessionTracker.Confirmation c = tracker.confirm(sessionId, contact.leading(), contact.ageNanos());
    return HeartbeatReply.newBuilder()
        .setConfirmed(c.confirmed())
        .setTimeLeftMs(c.timeLeftMs())
        .setLastZxid(state.lastZxid());
  }

  /** The session if it is live and the secret matches. */
  public StateMachine.SessionInfo authenticate(long sessionId, long secret) throws SynodException {
    return SessionAccess.authenticate(state, sessionId, secret);
  }
}
