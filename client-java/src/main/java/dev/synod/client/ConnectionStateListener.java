package dev.synod.client;

/** Told of every state change, in order, on the client's event thread (never a gRPC thread). */
@FunctionalInterface
public interface ConnectionStateListener {
  void stateChanged(SynodClient client, ConnectionState newState);
}
