package dev.synod.server.replication;

import io.grpc.ServerBuilder;

/** Makes the server builder for this server's peer endpoint at its member address. */
@FunctionalInterface
public interface PeerEndpoint {
  ServerBuilder<?> serverBuilder(String address);
}
