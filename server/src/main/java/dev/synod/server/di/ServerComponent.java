package dev.synod.server.di;

import dagger.BindsInstance;
import dagger.Component;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.grpc.Transport;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.pipeline.FatalHandler;
import javax.inject.Singleton;

/**
 * The server's object graph. The process passes Netty, the system clock and a halting fatal
 * handler; tests pass an in-process transport, a manual clock or a recording handler.
 */
@Singleton
@Component(modules = ServerModule.class)
public interface ServerComponent {
  SynodNode node();

  static ServerComponent create(ServerConfig config, Transport transport, Clock clock, FatalHandler fatal) {
    return DaggerServerComponent.builder()
        .config(config)
        .transport(transport)
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
    Builder clock(Clock clock);

    @BindsInstance
    Builder fatal(FatalHandler fatal);

    ServerComponent build();
  }
}
