package dev.synod.bench;

import java.util.List;

/**
 * Connects the load generator to one system. Every workload is written once against
 * {@link Session}; a driver maps its operations onto the system's standard client.
 */
public interface Driver extends AutoCloseable {
  /**
   * Opens the session of client {@code client}, connected to {@code targets[client % n]} only, so
   * that clients are spread evenly over the servers. Blocks until the session is usable.
   */
  Session open(int client) throws Exception;

  /** Releases whatever the driver shares between sessions. */
  @Override
  void close() throws Exception;

  /** The driver for {@code system} over these servers. */
  static Driver create(SystemKind system, List<String> targets) {
    return switch (system) {
      case SYNOD -> new SynodDriver(targets);
      case ZOOKEEPER -> new ZooKeeperDriver(targets);
      case ETCD -> new EtcdDriver(targets);
    };
  }
}
