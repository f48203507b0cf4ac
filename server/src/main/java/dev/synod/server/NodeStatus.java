package dev.synod.server;

import dev.synod.api.v1.StatusResponse;
import dev.synod.server.config.ServerConfig;
import dev.synod.server.pipeline.Clock;
import dev.synod.server.replication.ConsensusDriver;
import dev.synod.server.state.StateMachine;
import dev.synod.server.storage.DurableStore;
import java.util.function.Supplier;

/** Answers the Status call from the state machine and the store. */
public final class NodeStatus implements Supplier<StatusResponse> {
  /** StatusResponse.role of a single server (a cluster of one), as synod.proto says. */
  public static final String ROLE_STANDALONE = "standalone";
  private static final String ROLE_LEADER = "leader";

  private final ServerConfig config;
  private final StateMachine state;
  private final DurableStore store;
  private final ConsensusDriver driver;
  private final Clock clock;
  private final long startedNanos;

  public NodeStatus(ServerConfig config, StateMachine state, DurableStore store, ConsensusDriver driver,
      Clock clock) {
    this.config = config;
    this.state = state;
    this.store = store;
    this.driver = driver;
    this.clock = clock;
    this.startedNanos = clock.monoNanos();
  }

  @Override
  public StatusResponse get() {
    StateMachine.Stats stats = state.stats();
    StatusResponse.Builder status = StatusResponse.newBuilder()
        .setLastZxid(stats.lastZxid())
        .setNodeCount(stats.nodeCount())
        .setSessionCount(stats.sessionCount())
        .setWatchCount(stats.watchCount())
        .setVersion(Version.VERSION)
        .setServerId(config.serverId())
        .setSnapshotZxid(store.snapshotZxid())
        .setOldestResumableZxid(stats.historyFloor())
        .setUptimeMs((clock.monoNanos() - startedNanos) / 1_000_000);
    driver.describe(status);
    if (status.getMembersCount() == 1 && ROLE_LEADER.equals(status.getRole())) {
      // A cluster of one leads itself; the contract calls that role "standalone".
      status.setRole(ROLE_STANDALONE);
    }
    status.addAllQuotaWarnings(state.quotaWarnings());
    return status.build();
  }
}
