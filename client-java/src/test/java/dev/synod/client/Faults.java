package dev.synod.client;

import dev.synod.api.v1.ServerMessage;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Network faults for tests, injected through the client's {@link ChannelFactory} (plaintext
 * loopback channels with an interceptor), so the SDK itself carries no test hooks. Build a client
 * with {@link #build} to be able to cut it off, lose its answers, or break its connection.
 */
public final class Faults implements ChannelFactory {
  private static final Map<SynodClient, Faults> BY_CLIENT = Collections.synchronizedMap(new WeakHashMap<>());

  private final Set<ClientCall<?, ?>> live = ConcurrentHashMap.newKeySet();
  private final Set<InetSocketAddress> dialed = ConcurrentHashMap.newKeySet();
  private volatile boolean partitioned;
  private volatile boolean holdReconnect;
  private volatile boolean dropResponses;

  private Faults() {}

  /** Builds the client with fault-injecting channels (not started). */
  public static SynodClient build(SynodClient.Builder builder) {
    Faults faults = new Faults();
    SynodClient client = builder.channelFactory(faults).build();
    BY_CLIENT.put(client, faults);
    return client;
  }

  /** The faults of a client made by {@link #build}. */
  public static Faults of(SynodClient client) {
    Faults f = BY_CLIENT.get(client);
    if (f == null) {
      throw new IllegalArgumentException("build the client with Faults.build(...) to inject faults into it");
    }
    return f;
  }

  /**
   * While on, nothing passes between the client and any server: messages either way are lost, and
   * new connections fail at once. The client notices by itself (silence, then local expiry).
   */
  public void partition(boolean on) {
    partitioned = on;
  }

  /** While on, new connections fail at once; the current one keeps working. */
  public void holdReconnect(boolean on) {
    holdReconnect = on;
  }

  /** While on, the servers' answers to requests are lost in transit (events and heartbeats pass). */
  public void dropResponses(boolean on) {
    dropResponses = on;
  }

  /** Breaks every open connection now, as a network failure would; the client moves on. */
  public void disconnect() {
    for (ClientCall<?, ?> c : live) {
      c.cancel("test disconnect", null);
    }
  }

  /** The servers this client has connected to, as a connect string (for an observer of its own). */
  public String dialedConnectString() {
    return String.join(",", dialed.stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
  }

  @Override
  public ManagedChannel newChannel(InetSocketAddress server, Executor executor) {
    dialed.add(server);
    return Grpc.newChannelBuilderForAddress(server.getHostString(), server.getPort(), InsecureChannelCredentials.create())
        .executor(executor).intercept(new Interceptor(executor)).build();
  }

  private final class Interceptor implements ClientInterceptor {
    private final Executor executor;

    Interceptor(Executor executor) {
      this.executor = executor;
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        private boolean refused;

        @Override
        public void start(Listener<A> listener, Metadata headers) {
          if (partitioned || holdReconnect) {
            refused = true;
            // Asynchronously, as a transport failure arrives.
            executor.execute(() -> listener.onClose(Status.UNAVAILABLE.withDescription("test: no route"), new Metadata()));
            return;
          }
          ClientCall<Q, A> self = this;
          live.add(self);
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onMessage(A message) {
              if (partitioned || (dropResponses && message instanceof ServerMessage m && m.hasResponse())) {
                // Lost; the stub asks for the next message only after delivering one, so ask here.
                self.request(1);
                return;
              }
              super.onMessage(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              live.remove(self);
              super.onClose(status, trailers);
            }
          }, headers);
        }

        @Override
        public void sendMessage(Q message) {
          if (!refused && !partitioned) {
            super.sendMessage(message);
          }
        }

        @Override
        public void request(int n) {
          if (!refused) {
            super.request(n);
          }
        }

        @Override
        public void halfClose() {
          if (!refused) {
            super.halfClose();
          }
        }

        @Override
        public void cancel(String message, Throwable cause) {
          if (!refused) {
            super.cancel(message, cause);
          }
        }
      };
    }
  }
}
