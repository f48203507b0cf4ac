package dev.synod.server.di;

import dagger.Module;
import dagger.Provides;
import dev.synod.server.NodeStatus;
import dev.synod.server.SynodNode;
import dev.synod.server.auth.Authenticator;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.grpc.AuthInterceptor;
import dev.synod.server.grpc.ConnectionIdentities;
import dev.synod.server.grpc.GrpcServerFactory;
import dev.synod.server.grpc.MeteringInterceptor;
import dev.synod.server.observe.HealthMonitor;
import dev.synod.server.observe.MeteredDisk;
import dev.synod.server.observe.Observability;
import dev.synod.server.observe.PrometheusMetrics;
import dev.synod.server.observe.Readiness;
import dev.synod.server.observe.ServerMetrics;
import dev.synod.server.pipeline.ServiceContext;
import dev.synod.server.pipeline.StreamRegistry;
import dev.synod.server.grpc.AdminService;
import dev.synod.server.grpc.SynodService;
import dev.synod.server.grpc.Transport;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.ClusterTime;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.replication.ClusterConfig;
import dev.synod.server.replication.ClusterCreation;
import dev.synod.server.replication.ConsensusDriver;
import dev.synod.server.replication.PeerChannels;
import dev.synod.server.replication.PeerEndpoint;
import dev.synod.server.replication.PeerService;
import dev.synod.server.replication.PeerTransport;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.ClusterIdentity;
import dev.synod.server.storage.Disk;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import dev.synod.server.tls.MemberCertificates;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.inject.Singleton;

/** How the server's parts are built from its configuration. The only place that wires them. */
@Module
final class ServerModule {
  private ServerModule() {}

  @Provides
  @Singleton
  static StateLimits stateLimits(ServerConfig c) {
    return new StateLimits(c.watchesPerSessionMax(), c.childrenPageMax(), c.historyEventsMax(),
        c.historyBytesMax());
  }

  @Provides
  @Singleton
  static FaultInjector faults(ServerConfig c) {
    return FaultInjector.haltAt(c.testCrashPoint());
  }

  /** Prometheus metrics when a metrics port is set; without one nothing is counted. */
  @Provides
  @Singleton
  static Optional<PrometheusMetrics> prometheus(ServerConfig c) {
    return c.metricsPort() >= 0 ? Optional.of(new PrometheusMetrics()) : Optional.empty();
  }

  @Provides
  @Singleton
  static ServerMetrics metrics(Optional<PrometheusMetrics> prometheus) {
    return prometheus.<ServerMetrics>map(m -> m).orElse(ServerMetrics.NONE);
  }

  @Provides
  @Singleton
  static DurableStore store(ServerConfig c, FaultInjector faults, Optional<PrometheusMetrics> prometheus) {
    Disk disk = prometheus.<Disk>map(m -> new MeteredDisk(Disk.REAL, m)).orElse(Disk.REAL);
    try {
      return DurableStore.open(disk, c.dataDir(), c.segmentBytesMax(), faults);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Which cluster the data directory belongs to; an empty one needs --initial-cluster-state. */
  @Provides
  @Singleton
  static ClusterIdentity identity(ServerConfig c, ClusterConfig cluster, DurableStore store) {
    try {
      return ClusterCreation.establish(c, cluster, store);
    } catch (IOException | RuntimeException e) {
      try {
        store.close(); // release the directory: the server does not start
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      if (e instanceof IOException io) {
        throw new UncheckedIOException(io);
      }
      throw (RuntimeException) e;
    }
  }

  @Provides
  @Singleton
  static SessionTracker tracker(Clock clock) {
    return new SessionTracker(clock);
  }

  @Provides
  @Singleton
  static StreamRegistry registry() {
    return new StreamRegistry();
  }

  @Provides
  @Singleton
  static StateMachine state(StateLimits limits, StreamRegistry registry) {
    // The watch fan-out gets a thread of its own so that firing many watches holds up neither the
    // write that fired them nor the next one (the apply thread only journals each change). One
    // thread keeps the order; it ends when idle, so a stopped server leaves none behind.
    ThreadPoolExecutor fanOut = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "synod-watch-fanout");
          t.setDaemon(true);
          return t;
        });
    fanOut.allowCoreThreadTimeOut(true);
    return new StateMachine(limits, registry, fanOut);
  }

  @Provides
  @Singleton
  static ClusterTime clusterTime(Clock clock, StateMachine state) {
    return new ClusterTime(clock, state::lastTimeMs);
  }

  @Provides
  @Singleton
  static ClusterConfig cluster(ServerConfig c) {
    return ClusterConfig.parse(c.members(), c.serverId(), c.host(), c.peerPort());
  }

  @Provides
  @Singleton
  static PeerTransport peerTransport(ClusterConfig cluster, PeerChannels channels) {
    return new PeerTransport(cluster, channels);
  }

  @Provides
  @Singleton
  static ConsensusDriver driver(ServerConfig c, ClusterConfig cluster, ClusterIdentity identity,
      DurableStore store, StateMachine state, SessionTracker tracker, PeerTransport transport,
      StreamRegistry registry, Clock clock, ClusterTime clusterTime, FatalHandler fatal, ServerMetrics metrics) {
    return new ConsensusDriver(c, cluster, identity, store, state, tracker, transport, clock, clusterTime, fatal,
        () -> registry.disconnectAll("this server installed a snapshot from the leader"), metrics);
  }

  @Provides
  @Singleton
  static Optional<Server> peerServer(ClusterConfig cluster, PeerEndpoint endpoint, ConsensusDriver driver,
      ServerConfig c, PeerTransport peers) {
    if (cluster.isSingleNode()) {
      return Optional.empty();
    }
    // The peer handlers only decode and enqueue for the consensus thread (they never block), so
    // they run on the transport's threads instead of paying a thread hand-off per message.
    return Optional.of(endpoint.serverBuilder(cluster.peerAddresses().get(cluster.selfId()))
        .directExecutor()
        .addService(new PeerService(driver))
        // With peer TLS only members' certificates get through (see MemberCertificates); the
        // members are those of the decided membership (a live view: members added later too).
        .intercept(new MemberCertificates(peers.members().addresses(), !c.peerTlsCert().isEmpty()))
        .maxInboundMessageSize(c.batchBytesMax() + (4 << 20))
        .build());
  }

  @Provides
  @Singleton
  static Housekeeper housekeeper(SessionTracker tracker, StateMachine state, ConsensusDriver pipeline,
      ClusterTime clusterTime, ServerConfig c) {
    return new Housekeeper(tracker, state, pipeline, clusterTime, c.housekeepingIntervalMs());
  }

  @Provides
  @Singleton
  static NodeStatus status(ServerConfig c, StateMachine state, DurableStore store,
      ConsensusDriver driver, Clock clock) {
    return new NodeStatus(c, state, store, driver, clock);
  }

  @Provides
  @Singleton
  static ServiceContext serviceContext(ServerConfig c, StateMachine state, ConsensusDriver pipeline,
      SessionTracker tracker, StreamRegistry registry, NodeStatus status, ServerMetrics metrics) {
    return new ServiceContext(c, state, pipeline, tracker, registry, status, metrics);
  }

  @Provides
  @Singleton
  static HealthStatusManager health() {
    return new HealthStatusManager();
  }

  @Provides
  @Singleton
  static Server grpcServer(Transport transport, ServiceContext ctx, HealthStatusManager health, ServerConfig c,
      ConsensusDriver driver, Clock clock, ServerMetrics metrics) {
    AuthInterceptor auth = new AuthInterceptor(new Authenticator(c.superuserDigest()),
        ConnectionIdentities.withX509(c.x509Identity()));
    // The metering interceptor is listed last, so it runs first and sees every outcome (auth too).
    MeteringInterceptor metering = new MeteringInterceptor(metrics);
    SynodService service = new SynodService(ctx);
    AdminService admin = new AdminService(ctx.state(), driver, driver::clusterId, c.serverId(), clock,
        AdminService.threadPerBackup(), !c.superuserDigest().isEmpty(), driver);
    return GrpcServerFactory.build(transport.serverBuilder(),
        () -> ServerInterceptors.intercept(service, auth, metering), () -> ServerInterceptors.intercept(admin, auth),
        health, c.requestBytesMax());
  }

  @Provides
  @Singleton
  static Readiness readiness(ConsensusDriver driver, ServerConfig c) {
    return new Readiness(driver, c);
  }

  @Provides
  @Singleton
  static Observability observability(ServerConfig c, Optional<PrometheusMetrics> prometheus, Readiness readiness,
      HealthStatusManager health, ConsensusDriver driver, StateMachine state, DurableStore store,
      PeerTransport peers) {
    prometheus.ifPresent(m -> m.bindNode(driver, state, store, peers, readiness));
    return new Observability(c, prometheus, readiness, new HealthMonitor(readiness, health, c.serverId()));
  }

  @Provides
  @Singleton
  static SynodNode node(DurableStore store, StateMachine state, ConsensusDriver driver,
      PeerTransport peers, Optional<Server> peerServer, Housekeeper housekeeper, Server server,
      HealthStatusManager health, Observability observability) {
    return new SynodNode(store, state, driver, peers, peerServer, housekeeper, server, health, observability);
  }
}
