package dev.synod.server.replication;

import io.grpc.ManagedChannel;

/** Opens a channel to a peer's address: Netty in the process, in-process in tests. */
@FunctionalInterface
public interface PeerChannels {
  ManagedChannel open(String address);
}
