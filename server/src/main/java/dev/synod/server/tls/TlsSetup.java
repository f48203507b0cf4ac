package dev.synod.server.tls;

import dev.synod.server.config.ServerConfig;
import dev.synod.server.replication.ClusterConfig;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;

/**
 * The transport security of one server, from its settings: credentials for the client port
 * ({@code --tls-cert}/{@code --tls-key}, mutual with {@code --tls-client-ca}), for the peer port
 * and for the links to the other members (mutual TLS with {@code --peer-tls-cert},
 * {@code --peer-tls-key}, {@code --peer-tls-ca}), or plaintext where none is configured.
 *
 * <p>{@link #load} refuses (IllegalArgumentException, naming the fix) a configuration that would
 * carry plaintext beyond this machine: a client port bound to a non-loopback address without TLS
 * (or with the plain-HTTP metrics port open there),
 * or a cluster with a non-loopback member address without peer TLS, unless
 * {@code --allow-plaintext} says it is meant; and a cluster with TLS on the client port but not
 * between members. Every file is read once here, so a server never starts with a certificate it
 * cannot serve; afterwards each is re-read when it changes.
 */
public final class TlsSetup {
  private final Optional<ServerCredentials> clientPort;
  private final Optional<ServerCredentials> peerPort;
  private final Optional<ChannelCredentials> peerLinks;

  private TlsSetup(Optional<ServerCredentials> clientPort, Optional<ServerCredentials> peerPort,
      Optional<ChannelCredentials> peerLinks) {
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.peerLinks = peerLinks;
  }

  /** Plaintext everywhere (in-process tests and loopback-only servers without TLS settings). */
  public static TlsSetup plaintext() {
    return new TlsSetup(Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** Checks the settings and reads every certificate, key and CA bundle they name. */
  public static TlsSetup load(ServerConfig c) {
    ClusterConfig cluster = ClusterConfig.parse(c.members(), c.serverId(), c.host(), c.peerPort());
    refusePlaintextExposure(c, cluster);
    try {
      Optional<ServerCredentials> clientPort = Optional.empty();
      if (!c.tlsCert().isEmpty()) {
        TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder()
            .keyManager(new ReloadingKeyManager(Path.of(c.tlsCert()), Path.of(c.tlsKey()), "--tls-cert/--tls-key"));
        if (!c.tlsClientCa().isEmpty()) {
          b.trustManager(new ReloadingTrustManager(Path.of(c.tlsClientCa()), "--tls-client-ca"))
              .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
        }
        clientPort = Optional.of(b.build());
      }
      Optional<ServerCredentials> peerPort = Optional.empty();
      Optional<ChannelCredentials> peerLinks = Optional.empty();
      if (!c.peerTlsCert().isEmpty()) {
        // One key manager and one trust manager serve both directions, so a rotation reaches
        // the peer port and every outbound link at once.
        ReloadingKeyManager keys = new ReloadingKeyManager(Path.of(c.peerTlsCert()), Path.of(c.peerTlsKey()),
            "--peer-tls-cert/--peer-tls-key");
        ReloadingTrustManager cas = new ReloadingTrustManager(Path.of(c.peerTlsCa()), "--peer-tls-ca");
        peerPort = Optional.of(TlsServerCredentials.newBuilder().keyManager(keys).trustManager(cas)
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build());
        peerLinks = Optional.of(TlsChannelCredentials.newBuilder().keyManager(keys).trustManager(cas).build());
      }
      return new TlsSetup(clientPort, peerPort, peerLinks);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS: " + e.getMessage(), e);
    }
  }

  public boolean clientTls() {
    return clientPort.isPresent();
  }

  public boolean peerTls() {
    return peerPort.isPresent();
  }

  public ServerCredentials clientPort() {
    return clientPort.orElseGet(InsecureServerCredentials::create);
  }

  public ServerCredentials peerPort() {
    return peerPort.orElseGet(InsecureServerCredentials::create);
  }

  public ChannelCredentials peerLinks() {
    return peerLinks.orElseGet(InsecureChannelCredentials::create);
  }

  static void refusePlaintextExposure(ServerConfig c, ClusterConfig cluster) {
    boolean cluster1 = cluster.isSingleNode();
    if (!cluster1 && !c.tlsCert().isEmpty() && c.peerTlsCert().isEmpty() && !c.allowPlaintext()) {
      throw new IllegalArgumentException("TLS on the client port of a cluster needs mutual TLS between its"
          + " members too: give --peer-tls-cert, --peer-tls-key and --peer-tls-ca");
    }
    if (c.allowPlaintext()) {
      return;
    }
    if (c.metricsPort() >= 0 && !isLoopback(c.host())) {
      throw new IllegalArgumentException("host " + c.host() + " is not a loopback address and the metrics"
          + " port (--metrics-port) serves plain HTTP: pass --allow-plaintext to expose the metrics"
          + " unencrypted on purpose, or scrape them through a local proxy");
    }
    if (c.tlsCert().isEmpty() && !isLoopback(c.host())) {
      throw new IllegalArgumentException("host " + c.host() + " is not a loopback address and the client port"
          + " has no TLS: give --tls-cert and --tls-key (see README, Security), or --allow-plaintext to serve"
          + " plaintext on purpose");
    }
    if (!cluster1 && c.peerTlsCert().isEmpty()) {
      for (Map.Entry<Integer, String> m : cluster.peerAddresses().entrySet()) {
        String host = MemberCertificates.host(m.getValue());
        if (!isLoopback(host)) {
          throw new IllegalArgumentException("member " + m.getKey() + "'s peer address " + m.getValue()
              + " is not a loopback address and the peer port has no TLS: give --peer-tls-cert,"
              + " --peer-tls-key and --peer-tls-ca, or --allow-plaintext to send plaintext on purpose");
        }
      }
    }
  }

  /** Whether every address of {@code host} is a loopback address ("0.0.0.0" is not). */
  static boolean isLoopback(String host) {
    Optional<InetAddress> literal = MemberCertificates.ipLiteral(host);
    if (literal.isPresent()) {
      return literal.get().isLoopbackAddress();
    }
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return all.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
