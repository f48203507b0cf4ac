package dev.synod.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;

/**
 * Makes the gRPC channel to one server of the connect string. The default dials the address
 * with the builder's TLS settings (or plaintext); give your own to add interceptors, to tune the
 * transport, or to talk to an in-process server in a test.
 *
 * <p>The channel must run its callbacks on {@code executor} (pass it to the channel builder's
 * {@code executor(...)}): the client keeps its protocol state on one thread, and that executor
 * is it. The client shuts the channel down when it closes.
 */
@FunctionalInterface
public interface ChannelFactory {
  /** A new channel to {@code server} whose callbacks run on {@code executor}. */
  ManagedChannel newChannel(InetSocketAddress server, Executor executor);

  /** Dials {@code server} with {@code credentials} (plaintext: {@code InsecureChannelCredentials.create()}). */
  static ChannelFactory dialing(ChannelCredentials credentials) {
    return (server, executor) -> Grpc.newChannelBuilderForAddress(server.getHostString(), server.getPort(), credentials)
        .executor(executor).build();
  }
}
