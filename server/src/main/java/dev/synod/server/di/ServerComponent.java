package dev.synod.server.di;

import dagger.BindsInstance;
import dagger.Component;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.grpc.Transport;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import dev.synod.server.replication.PeerChannels;
import dev.synod.server.replication.PeerEndpoint;
import javax.inject.Singleton;

/**
 * The server's object graph. The process passes Netty for clients and peers, the system clock
 * and a halting fatal handler; tests pass in-process transports or a recording handler.
 */
@Singleton
@Component(modules = ServerModule.class)
public interface ServerComponent {
  SynodNode node();

  static ServerComponent create(ServerConfig config, Transport transport, PeerEndpoint peerEndpoint,
      PeerChannels peerChannels, Clock clock, FatalHandler fatal) {
    return DaggerServerComponent.builder()
        .config(config)
        .transport(transport)
        .peerEndpoint(peerEndpoint)
        .peerChannels(peerChannels)
        .clock(clock)
        .fatal(fatal)
        .build();
  }

  @Component.Builder
  interface Builder {
    @BindsInstance
    Builder config(ServerConfig config);

    @BindsInstance
    Builder transport(Transport transport);

    @BindsInstance
    Builder peerEndpoint(PeerEndpoint peerEndpoint);

    @BindsInstance
    Builder peerChannels(PeerChannels peerChannels);

    @BindsInstance
    Builder clock(Clock clock);

    @BindsInstance
    Builder fatal(FatalHandler fatal);

    ServerComponent build();
  }
}
