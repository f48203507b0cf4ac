package dev.synod.server.di;

import dagger.Module;
import dagger.Provides;
import dev.synod.server.NodeStatus;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.grpc.GrpcServerFactory;
import dev.synod.server.grpc.ServiceContext;
import dev.synod.server.grpc.StreamRegistry;
import dev.synod.server.grpc.SynodService;
import dev.synod.server.grpc.Transport;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.pipeline.Housekeeper;
import dev.synod.server.pipeline.LocalSequencer;
import dev.synod.server.pipeline.SessionTracker;
import dev.synod.server.pipeline.Snapshotter;
import dev.synod.server.state.StateLimits;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.DurableStore;
import dev.synod.server.storage.FaultInjector;
import io.grpc.Server;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.inject.Singleton;

/** How the server's parts are built from its configuration. The only place that wires them. */
@Module
final class ServerModule {
  private ServerModule() {}

  @Provides
  @Singleton
  static StateLimits stateLimits(ServerConfig c) {
    return new StateLimits(c.dataBytesMax(), c.pathBytesMax(), c.watchesPerSessionMax(),
        c.childrenPageMax(), c.recentResultsPerSession(), c.historyEventsMax(), c.historyBytesMax());
  }

  @Provides
  @Singleton
  static FaultInjector faults(ServerConfig c) {
    return FaultInjector.haltAt(c.testCrashPoint());
  }

  @Provides
  @Singleton
  static DurableStore store(ServerConfig c, FaultInjector faults) {
    try {
      return DurableStore.open(c.dataDir(), c.segmentBytesMax(), faults);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provides
  @Singleton
  static SessionTracker tracker(Clock clock) {
    return new SessionTracker(clock);
  }

  @Provides
  @Singleton
  static StreamRegistry registry(SessionTracker tracker) {
    return new StreamRegistry(tracker);
  }

  @Provides
  @Singleton
  static StateMachine state(StateLimits limits, StreamRegistry registry) {
    return new StateMachine(limits, registry);
  }

  @Provides
  @Singleton
  static Snapshotter snapshotter(StateMachine state, DurableStore store, ServerConfig c, FatalHandler fatal) {
    return new Snapshotter(state, store, c.snapshotEveryTxns(), fatal);
  }

  @Provides
  @Singleton
  static LocalSequencer sequencer(DurableStore store, StateMachine state, Snapshotter snapshotter,
      Clock clock, FatalHandler fatal, ServerConfig c) {
    return new LocalSequencer(store, state, snapshotter, clock, fatal,
        c.pendingWritesMax(), c.batchTxnsMax(), c.batchBytesMax());
  }

  @Provides
  @Singleton
  static Housekeeper housekeeper(SessionTracker tracker, StateMachine state, LocalSequencer pipeline,
      Clock clock, ServerConfig c) {
    return new Housekeeper(tracker, state, pipeline, clock, c.housekeepingIntervalMs());
  }

  @Provides
  @Singleton
  static NodeStatus status(ServerConfig c, StateMachine state, DurableStore store, Clock clock) {
    return new NodeStatus(c, state, store, clock);
  }

  @Provides
  @Singleton
  static ServiceContext serviceContext(ServerConfig c, StateMachine state, LocalSequencer pipeline,
      SessionTracker tracker, StreamRegistry registry, NodeStatus status) {
    return new ServiceContext(c, state, pipeline, tracker, registry, status);
  }

  @Provides
  @Singleton
  static HealthStatusManager health() {
    return new HealthStatusManager();
  }

  @Provides
  @Singleton
  static Server grpcServer(Transport transport, ServiceContext ctx, HealthStatusManager health, ServerConfig c) {
    return GrpcServerFactory.build(transport.serverBuilder(), new SynodService(ctx), health, c.requestBytesMax());
  }

  @Provides
  @Singleton
  static SynodNode node(DurableStore store, StateMachine state, SessionTracker tracker,
      LocalSequencer sequencer, Snapshotter snapshotter, Housekeeper housekeeper, Server server,
      HealthStatusManager health) {
    return new SynodNode(store, state, tracker, sequencer, snapshotter, housekeeper, server, health);
  }
}
