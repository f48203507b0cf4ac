package dev.synod.client;

import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Server selection: the servers of the connect string in a random order (so that clients spread
 * over the cluster), tried in turn, one channel each, made once and kept. Used on the loop only.
 */
final class Servers {
  private final List<InetSocketAddress> order;
  private final ChannelFactory channelFactory;
  private final Executor channelExecutor;
  private final Map<InetSocketAddress, ManagedChannel> channels = new LinkedHashMap<>();
  private int index = -1;

  /**
   * @param channelExecutor where the channels run their callbacks (the client's loop)
   */
  Servers(List<InetSocketAddress> servers, ChannelFactory channelFactory, Executor channelExecutor) {
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no server to connect to");
    }
    this.order = new ArrayList<>(servers);
    Collections.shuffle(this.order);
    this.channelFactory = channelFactory;
    this.channelExecutor = channelExecutor;
  }

  /** The next server in turn. */
  InetSocketAddress next() {
    index = (index + 1) % order.size();
    return order.get(index);
  }

  int size() {
    return order.size();
  }

  /** The channel to {@code server}, made on first use. */
  ManagedChannel channel(InetSocketAddress server) {
    return channels.computeIfAbsent(server, s -> channelFactory.newChannel(s, channelExecutor));
  }

  /** Shuts every channel down (the client closes). */
  void shutdown() {
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
  }
}
