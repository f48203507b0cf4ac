package dev.synod.server.grpc;

import io.grpc.ServerBuilder;

/** Makes the server builder the node listens on: Netty in the process, in-process in tests. */
@FunctionalInterface
public interface Transport {
  ServerBuilder<?> serverBuilder();
}
