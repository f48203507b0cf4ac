package dev.synod.server.config;

import dev.synod.server.state.ReplicatedLimits;
import java.nio.file.Path;

/**
 * Every setting of a Synod server, with its default. Units are last in names. Built by
 * {@link ConfigParser} from flags and an optional properties file; validated once, here.
 */
public record ServerConfig(
    String host,
    int port,
    Path dataDir,
    int serverId,
    long sessionTimeoutMinMs,
    long sessionTimeoutMaxMs,
    long sessionTimeoutDefaultMs,
    int dataBytesMax,
    int pathBytesMax,
    int requestBytesMax,
    int multiOpsMax,
    int watchesPerSessionMax,
    int childrenPageMax,
    int pendingWritesMax,
    int pendingRequestsPerSessionMax,
    int outboundMessagesMax,
    int batchTxnsMax,
    int batchBytesMax,
    int recentResultsPerSession,
    int historyEventsMax,
    long historyBytesMax,
    long snapshotEveryTxns,
    long segmentBytesMax,
    long housekeepingIntervalMs,
    String superuserDigest,
    String defaultAcl,
    String members,
    String initialClusterState,
    String restore,
    int peerPort,
    long tickMs,
    int electionTicksMin,
    int electionTicksMax,
    int heartbeatTicks,
    int inflightSlotsMax,
    long writeTimeoutMs,
    String testCrashPoint,
    // Transport security (see dev.synod.server.tls.TlsSetup); "" means not configured.
    String tlsCert,
    String tlsKey,
    String tlsClientCa,
    // What of a client certificate is its x509 identity: dn, or the SANs of one kind.
    String x509Identity,
    String peerTlsCert,
    String peerTlsKey,
    String peerTlsCa,
    boolean allowPlaintext,
    // Observability: log layout (text|json), and the HTTP port of /metrics, /healthz, /readyz.
    String logFormat,
    int metricsPort) {

  public static final int DEFAULT_PORT = 7070;
  /** {@code --initial-cluster-state}: this empty data directory founds a new cluster. */
  public static final String CLUSTER_STATE_NEW = "new";
  /** {@code --initial-cluster-state}: this empty data directory joins a cluster that exists. */
  public static final String CLUSTER_STATE_EXISTING = "existing";
  /**
   * {@code --x509-identity}: a client certificate's subject DN, or every subject alternative name
   * of one kind (dns, uri, ip, email), is its x509 identity.
   */
  public static final java.util.List<String> X509_IDENTITIES = java.util.List.of("dn", "dns", "uri", "ip", "email");

  public static ServerConfig defaults() {
    return new ServerConfig(
        "127.0.0.1",
        DEFAULT_PORT,
        Path.of("synod-data"),
        1,
        2_000,
        60_000,
        10_000,
        1 << 20,
        4_096,
        4 << 20,
        1_000,
        100_000,
        10_000,
        20_000,
        1_000,
        10_000,
        2_000,
        4 << 20,
        1_024,
        100_000,
        64L << 20,
        100_000,
        64L << 20,
        100,
        "",
        "world:anyone:cdrwa",
        "",
        "",
        "",
        7071,
        10,
        15,
        30,
        3,
        256,
        5_000,
        "",
        "",
        "",
        "",
        "dn",
        "",
        "",
        "",
        false,
        "text",
        -1);
  }

  /** Throws IllegalArgumentException naming the first setting that cannot work. */
  public ServerConfig validate() {
    require(port >= 0 && port <= 65_535, "port must be 0..65535 (0 picks a free port)");
    // Member ids index the consensus module's 64-bit member masks (Membership.ID_MAX); 0 is never a member.
    require(serverId >= 1 && serverId <= 63, "server-id must be 1..63, got " + serverId);
    require(sessionTimeoutMinMs >= 100, "session-timeout-min-ms must be >= 100");
    require(sessionTimeoutMaxMs >= sessionTimeoutMinMs,
        "session-timeout-max-ms must be >= session-timeout-min-ms");
    require(sessionTimeoutDefaultMs >= sessionTimeoutMinMs
            && sessionTimeoutDefaultMs <= sessionTimeoutMaxMs,
        "session-timeout-default-ms must lie within [min, max]");
    require(dataBytesMax >= 0, "data-bytes-max must be >= 0");
    require(pathBytesMax >= 16, "path-bytes-max must be >= 16");
    require((long) requestBytesMax >= (long) dataBytesMax + pathBytesMax + 16_384,
        "request-bytes-max must exceed data-bytes-max + path-bytes-max + 16 KiB");
    require(multiOpsMax >= 1, "multi-ops-max must be >= 1");
    require(watchesPerSessionMax >= 1, "watches-per-session-max must be >= 1");
    require(childrenPageMax >= 1, "children-page-max must be >= 1");
    require(pendingWritesMax >= 1, "pending-writes-max must be >= 1");
    require(pendingRequestsPerSessionMax >= 1, "pending-requests-per-session-max must be >= 1");
    require(outboundMessagesMax >= 16, "outbound-messages-max must be >= 16");
    require(batchTxnsMax >= 1, "batch-txns-max must be >= 1");
    require(batchBytesMax >= requestBytesMax, "batch-bytes-max must be >= request-bytes-max");
    require(recentResultsPerSession >= 1
            && recentResultsPerSession <= ReplicatedLimits.RECENT_RESULTS_MAX,
        "recent-results-per-session must be 1.." + ReplicatedLimits.RECENT_RESULTS_MAX);
    require(historyEventsMax >= 1, "history-events-max must be >= 1");
    require(historyBytesMax >= 1, "history-bytes-max must be >= 1");
    require(snapshotEveryTxns >= 1, "snapshot-every-txns must be >= 1");
    require(segmentBytesMax >= 4_096, "segment-bytes-max must be >= 4096");
    require(housekeepingIntervalMs >= 1, "housekeeping-interval-ms must be >= 1");
    try {
      new dev.synod.server.auth.Authenticator(superuserDigest);
      dev.synod.server.state.NodeRules.checkAcl(defaultAclEntries(), "/");
      require(!defaultAclEntries().isEmpty(), "default-acl must have at least one entry");
    } catch (dev.synod.server.state.SynodException | IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().startsWith("superuser-digest")
          ? e.getMessage() : "default-acl: " + e.getMessage());
    }
    require(initialClusterState.isEmpty() || initialClusterState.equals(CLUSTER_STATE_NEW)
            || initialClusterState.equals(CLUSTER_STATE_EXISTING),
        "initial-cluster-state must be new or existing, got '" + initialClusterState + "'");
    require(restore.isEmpty() || !initialClusterState.equals(CLUSTER_STATE_EXISTING),
        "restore founds a new cluster from a backup: pass --initial-cluster-state new (or none for"
            + " a cluster of one), not existing");
    require(peerPort >= 0 && peerPort <= 65_535, "peer-port must be 0..65535");
    require(tickMs >= 1, "tick-ms must be >= 1");
    require(electionTicksMin > heartbeatTicks, "election-ticks-min must exceed heartbeat-ticks");
    require(electionTicksMax >= electionTicksMin, "election-ticks-max must be >= election-ticks-min");
    require(heartbeatTicks >= 1, "heartbeat-ticks must be >= 1");
    require(inflightSlotsMax >= 1, "inflight-slots-max must be >= 1");
    require(logFormat.equals("text") || logFormat.equals("json"),
        "log-format must be text or json, got '" + logFormat + "'");
    require(metricsPort >= -1 && metricsPort <= 65_535,
        "metrics-port must be 0..65535 (0 picks a free port), or -1 for no metrics endpoint");
    require(writeTimeoutMs >= tickMs * electionTicksMax,
        "write-timeout-ms must be at least one election timeout (tick-ms * election-ticks-max)");
    require(tlsCert.isEmpty() == tlsKey.isEmpty(), "tls-cert and tls-key go together");
    require(tlsClientCa.isEmpty() || !tlsCert.isEmpty(),
        "tls-client-ca (mutual TLS on the client port) needs tls-cert and tls-key");
    require(X509_IDENTITIES.contains(x509Identity),
        "x509-identity must be one of " + X509_IDENTITIES + ", got '" + x509Identity + "'");
    require(peerTlsCert.isEmpty() == peerTlsKey.isEmpty() && peerTlsCert.isEmpty() == peerTlsCa.isEmpty(),
        "peer-tls-cert, peer-tls-key and peer-tls-ca go together (the peer port is mutual TLS)");
    return this;
  }

  /** The ACL a create that gives none gets (default-acl, parsed). */
  public java.util.List<dev.synod.api.v1.Acl> defaultAclEntries() {
    return dev.synod.server.auth.Acls.parseList(defaultAcl);
  }

  /** Clamps a requested session timeout into [min, max]; 0 or less means the default. */
  public long negotiateTimeoutMs(long requestedMs) {
    if (requestedMs <= 0) {
      return sessionTimeoutDefaultMs;
    }
    return Math.max(sessionTimeoutMinMs, Math.min(sessionTimeoutMaxMs, requestedMs));
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
